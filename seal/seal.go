// Package seal is pasteur's end-to-end encryption format, the one the
// browser's page script writes with WebCrypto: AES-256-GCM under a random
// 256-bit key that travels only in the paste's URL fragment, optionally
// mixed with a password through PBKDF2-SHA256. docs/FORMAT.md describes it
// for other clients; this package is its reference in Go.
//
// The server never holds a key: it only checks that an encrypted paste is
// shaped like an envelope (Parse). Clients Seal and Open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Sizes, in bytes.
const (
	KeySize  = 32 // the fragment key: AES-256
	IVSize   = 12 // GCM's 96-bit nonce, fresh for every paste
	SaltSize = 16 // PBKDF2's salt, fresh for every password-protected paste
	TagSize  = 16 // GCM's authentication tag, at the end of the ciphertext
)

// PBKDF2 iteration counts. Seal uses DefaultIterations; Parse accepts
// MinIterations to MaxIterations, so that a stored paste cannot make a
// reader spin for minutes.
const (
	DefaultIterations = 600_000
	MinIterations     = 100_000
	MaxIterations     = 10_000_000
)

// Errors Parse and Open return, wrapped; test with errors.Is.
var (
	// ErrFormat: the text is not an envelope this package can read.
	ErrFormat = errors.New("not a pasteur v1 encrypted paste")
	// ErrPasswordRequired: the envelope needs a password and none was given.
	ErrPasswordRequired = errors.New("this paste needs a password")
	// ErrDecrypt: the key (or the password) is wrong, or the envelope was
	// altered. AES-GCM cannot tell these apart.
	ErrDecrypt = errors.New("wrong key or password")
)

// Key is a paste's secret key, as it appears in the URL fragment.
type Key [KeySize]byte

// NewKey returns a random key from crypto/rand.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("seal: random key: %w", err)
	}
	return k, nil
}

// String is the key in base64url without padding: 43 characters.
func (k Key) String() string { return b64.EncodeToString(k[:]) }

// ParseKey reads a key written by Key.String.
func ParseKey(s string) (Key, error) {
	var k Key
	for i := 0; i < len(s); i++ {
		if !isFieldByte(s[i]) {
			return k, fmt.Errorf("seal: a key is %d characters of base64url", b64.EncodedLen(KeySize))
		}
	}
	b, err := b64.Strict().DecodeString(s)
	if err != nil || len(b) != KeySize {
		return k, fmt.Errorf("seal: a key is %d characters of base64url", b64.EncodedLen(KeySize))
	}
	copy(k[:], b)
	return k, nil
}

// b64 is the encoding of every binary field: base64url, no padding.
var b64 = base64.RawURLEncoding

// Seal encrypts plaintext under key, and password when it is not empty,
// with a fresh IV (and salt), and returns the envelope.
func Seal(plaintext []byte, key Key, password string) (string, error) {
	return SealIterations(plaintext, key, password, DefaultIterations)
}

// SealIterations is Seal with the PBKDF2 iteration count given; it must be
// within MinIterations..MaxIterations.
func SealIterations(plaintext []byte, key Key, password string, iterations int) (string, error) {
	e := &Envelope{IV: make([]byte, IVSize)}
	if _, err := rand.Read(e.IV); err != nil {
		return "", fmt.Errorf("seal: random iv: %w", err)
	}
	if password != "" {
		if iterations < MinIterations || iterations > MaxIterations {
			return "", fmt.Errorf("seal: %d iterations, want %d..%d", iterations, MinIterations, MaxIterations)
		}
		e.Iterations = iterations
		e.Salt = make([]byte, SaltSize)
		if _, err := rand.Read(e.Salt); err != nil {
			return "", fmt.Errorf("seal: random salt: %w", err)
		}
	}
	return e.seal(plaintext, key, password)
}

// seal fills e.Ciphertext with plaintext encrypted under e's IV (and salt
// and iterations) and returns e's text form.
func (e *Envelope) seal(plaintext []byte, key Key, password string) (string, error) {
	aead, err := e.aead(key, password)
	if err != nil {
		return "", err
	}
	e.Ciphertext = aead.Seal(nil, e.IV, plaintext, nil)
	return e.String(), nil
}

// Open decrypts an envelope with key, and password when the envelope asks
// for one. It fails with ErrFormat, ErrPasswordRequired or ErrDecrypt.
func Open(envelope string, key Key, password string) ([]byte, error) {
	e, err := Parse(envelope)
	if err != nil {
		return nil, err
	}
	if e.NeedsPassword() && password == "" {
		return nil, ErrPasswordRequired
	}
	if !e.NeedsPassword() {
		password = "" // a password the paste does not use is ignored
	}
	aead, err := e.aead(key, password)
	if err != nil {
		return nil, err
	}
	out, err := aead.Open(nil, e.IV, e.Ciphertext, nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// aead is AES-256-GCM under the content key: the fragment key itself, or
// PBKDF2-HMAC-SHA256(key ‖ UTF-8 password, salt, iterations, 32 bytes).
func (e *Envelope) aead(key Key, password string) (cipher.AEAD, error) {
	ck := key[:]
	if password != "" {
		var err error
		ck, err = pbkdf2.Key(sha256.New, string(key[:])+password, e.Salt, e.Iterations, KeySize)
		if err != nil {
			return nil, fmt.Errorf("seal: pbkdf2: %w", err)
		}
	}
	block, err := aes.NewCipher(ck)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}
