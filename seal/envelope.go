package seal

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the first field of every envelope this package writes.
const Version = "v1"

// Envelope is an encrypted paste as stored: the text form is
//
//	v1.IV.CIPHERTEXT                      (key only)
//	v1.IV.CIPHERTEXT.ITERATIONS.SALT      (key and password)
//
// with IV, CIPHERTEXT and SALT in base64url without padding and ITERATIONS
// in decimal. CIPHERTEXT ends with the 16-byte GCM tag.
type Envelope struct {
	IV         []byte // IVSize bytes
	Ciphertext []byte // at least TagSize bytes
	Iterations int    // PBKDF2 iterations; 0 when no password is used
	Salt       []byte // SaltSize bytes when Iterations > 0
}

// Parse reads an envelope's text form. It checks the shape only, not that
// any key opens it; errors wrap ErrFormat.
func Parse(s string) (*Envelope, error) {
	for i := 0; i < len(s); i++ {
		if !isFieldByte(s[i]) && s[i] != '.' {
			return nil, fmt.Errorf("%w: byte %d is not base64url, a digit or a dot", ErrFormat, i)
		}
	}
	f := strings.Split(s, ".")
	if len(f) != 3 && len(f) != 5 || f[0] != Version {
		return nil, fmt.Errorf("%w: want %s.IV.CIPHERTEXT[.ITERATIONS.SALT]", ErrFormat, Version)
	}
	e := &Envelope{}
	var err error
	if e.IV, err = field(f[1], "iv"); err != nil {
		return nil, err
	}
	if e.Ciphertext, err = field(f[2], "ciphertext"); err != nil {
		return nil, err
	}
	if len(e.IV) != IVSize {
		return nil, fmt.Errorf("%w: the iv is %d bytes, want %d", ErrFormat, len(e.IV), IVSize)
	}
	if len(e.Ciphertext) < TagSize {
		return nil, fmt.Errorf("%w: the ciphertext is shorter than its tag", ErrFormat)
	}
	if len(f) == 5 {
		n, err := strconv.Atoi(f[3])
		if err != nil || n < MinIterations || n > MaxIterations || strconv.Itoa(n) != f[3] {
			return nil, fmt.Errorf("%w: iterations %q, want %d..%d", ErrFormat, f[3], MinIterations, MaxIterations)
		}
		e.Iterations = n
		if e.Salt, err = field(f[4], "salt"); err != nil {
			return nil, err
		}
		if len(e.Salt) != SaltSize {
			return nil, fmt.Errorf("%w: the salt is %d bytes, want %d", ErrFormat, len(e.Salt), SaltSize)
		}
	}
	return e, nil
}

// isFieldByte reports whether c is in base64url's alphabet (digits too).
func isFieldByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func field(s, name string) ([]byte, error) {
	b, err := b64.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: the %s is not base64url without padding", ErrFormat, name)
	}
	return b, nil
}

// String is the envelope's text form.
func (e *Envelope) String() string {
	s := Version + "." + b64.EncodeToString(e.IV) + "." + b64.EncodeToString(e.Ciphertext)
	if e.Iterations > 0 {
		s += "." + strconv.Itoa(e.Iterations) + "." + b64.EncodeToString(e.Salt)
	}
	return s
}

// NeedsPassword reports whether opening the envelope takes a password.
func (e *Envelope) NeedsPassword() bool { return e.Iterations > 0 }

// PlaintextLen is the length of the text the envelope holds.
func (e *Envelope) PlaintextLen() int { return len(e.Ciphertext) - TagSize }

// MaxLen is the length of the longest envelope that holds n bytes of text:
// with a password and the most iteration digits.
func MaxLen(n int) int {
	return len(Version) + 1 + b64.EncodedLen(IVSize) + 1 + b64.EncodedLen(n+TagSize) +
		1 + len(strconv.Itoa(MaxIterations)) + 1 + b64.EncodedLen(SaltSize)
}
