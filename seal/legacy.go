package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The original pasteur's encryption, read so that its links keep working;
// pasteur never writes it (docs/FORMAT.md, "The original's format"). Its
// page encrypted with WebCrypto AES-CBC under a random 128-bit key, stored
// the ciphertext as hexadecimal in the paste's contents, and put the key
// in the link's fragment as base64 (standard alphabet, padded) of the key
// exported as a JSON Web Key. Its git-era version used the fixed IV
// LegacyIV; its newest writes a random 16-byte IV in front of the
// ciphertext. Nothing in the stored paste says which: OpenLegacy tells
// them apart by what the first block decrypts to.

// LegacyIV is the IV the git-era original encrypted every paste with.
var LegacyIV = [aes.BlockSize]byte{
	0x48, 0x3b, 0x2e, 0xc4, 0x44, 0x0d, 0x2c, 0xb0,
	0x46, 0xf4, 0xd5, 0x76, 0xa1, 0x94, 0x26, 0x0d,
}

// MaxLegacyKeyLen bounds the fragment ParseLegacyKey reads: a JWK of the
// original is about 140 characters once in base64.
const MaxLegacyKeyLen = 1024

// ErrLegacyKey: the fragment is not the original's key.
var ErrLegacyKey = errors.New("not a key of the original pasteur (base64 of a JSON Web Key)")

// LegacyKey is an AES key of the original's links: 16 bytes (A128CBC),
// or 24 or 32 for a JWK that says A192CBC or A256CBC.
type LegacyKey []byte

// jwk is the part of a JSON Web Key (RFC 7517) that the key needs.
type jwk struct {
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	K   string `json:"k"`
}

// ParseLegacyKey reads the fragment of an original link: base64 of the
// JSON of a JWK {"kty":"oct","alg":"A128CBC","k":...}. The standard
// alphabet is read with or without padding, and base64url too.
func ParseLegacyKey(fragment string) (LegacyKey, error) {
	if len(fragment) > MaxLegacyKeyLen {
		return nil, fmt.Errorf("%w: %d characters", ErrLegacyKey, len(fragment))
	}
	raw, err := decodeAnyBase64(fragment)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLegacyKey, err)
	}
	var k jwk
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLegacyKey, err)
	}
	if k.Kty != "oct" {
		return nil, fmt.Errorf("%w: kty %q, want \"oct\"", ErrLegacyKey, k.Kty)
	}
	key, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.K, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: k is not base64url", ErrLegacyKey)
	}
	want := map[int]string{16: "A128CBC", 24: "A192CBC", 32: "A256CBC"}[len(key)]
	if want == "" || k.Alg != "" && k.Alg != want {
		return nil, fmt.Errorf("%w: alg %q with a %d-byte key", ErrLegacyKey, k.Alg, len(key))
	}
	return LegacyKey(key), nil
}

// decodeAnyBase64 reads base64 in the standard or URL alphabet, padded or
// not.
func decodeAnyBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// IsLegacyKey reports whether a fragment key has the original's form
// rather than pasteur's: it decodes to a JSON object.
func IsLegacyKey(fragment string) bool {
	raw, err := decodeAnyBase64(fragment)
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return err == nil && len(fragment) <= MaxLegacyKeyLen && len(raw) > 0 && raw[0] == '{'
}

// ParseLegacy reads the contents of the original's encrypted paste:
// hexadecimal (the original wrote lower case) of whole AES blocks. Errors
// wrap ErrFormat.
func ParseLegacy(contents string) ([]byte, error) {
	if len(contents) == 0 || len(contents)%(2*aes.BlockSize) != 0 {
		return nil, fmt.Errorf("%w: the original's ciphertext is whole 16-byte blocks in hex", ErrFormat)
	}
	out := make([]byte, len(contents)/2)
	for i := range out {
		hi, ok1 := unhex(contents[2*i])
		lo, ok2 := unhex(contents[2*i+1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: byte %d of the original's ciphertext is not hex", ErrFormat, 2*i)
		}
		out[i] = hi<<4 | lo
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// IsLegacy reports whether contents is shaped as the original's ciphertext.
func IsLegacy(contents string) bool {
	_, err := ParseLegacy(contents)
	return err == nil
}

// OpenLegacy decrypts the original's encrypted paste, written with either
// IV convention. CBC decrypts every block but the first the same way under
// both, so it decrypts under LegacyIV and keeps the first block when it
// reads as text (UTF-8 without control characters other than tab, line
// ends, form feed and escape): the git-era's fixed IV. Otherwise that
// block was the newest version's IV and is dropped. Random bytes pass that
// test about 4 times in a million. It fails with ErrFormat, or ErrDecrypt
// when the key is wrong (bad padding, or no text either way).
func OpenLegacy(contents string, key LegacyKey) ([]byte, error) {
	ct, err := ParseLegacy(contents)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, LegacyIV[:]).CryptBlocks(out, ct)
	n := int(out[len(out)-1])
	if n < 1 || n > aes.BlockSize {
		return nil, ErrDecrypt
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, ErrDecrypt
		}
	}
	out = out[:len(out)-n]
	fixed := utf8.Valid(out)
	switch {
	case fixed && (len(out) <= aes.BlockSize || textBlock(out[:aes.BlockSize])):
		return out, nil
	case len(out) > aes.BlockSize && utf8.Valid(out[aes.BlockSize:]):
		return out[aes.BlockSize:], nil
	case fixed:
		return out, nil
	}
	return nil, ErrDecrypt
}

// textBlock reports whether b has no control byte but tab, LF, VT, FF, CR
// and ESC.
func textBlock(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && !(c >= '\t' && c <= '\r' || c == 0x1b) || c == 0x7f {
			return false
		}
	}
	return true
}
