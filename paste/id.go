package paste

import (
	"crypto/rand"
	"fmt"
	"math"
)

// idAlphabet is lowercase so that ids are case-insensitive-filesystem safe
// when the repository is checked out, and easy to read aloud.
const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// DefaultIDLength gives 36^13 ≈ 2^67 ids: at least 64 bits of randomness.
const DefaultIDLength = 13

// MaxIDLength bounds ids, old and new.
const MaxIDLength = 64

// NewID returns a random id of n characters from crypto/rand.
func NewID(n int) (string, error) {
	if n < 1 || n > MaxIDLength {
		return "", fmt.Errorf("%w: id length %d, want 1..%d", ErrInvalid, n, MaxIDLength)
	}
	// Rejection sampling keeps every character uniform.
	const limit = 256 - 256%len(idAlphabet)
	var outArr [MaxIDLength]byte
	var bufArr [2 * MaxIDLength]byte
	out, buf := outArr[:0:n], bufArr[:n*2]
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("paste: random id: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, idAlphabet[int(b)%len(idAlphabet)])
			}
		}
	}
	return string(out), nil
}

// IDBits is the entropy of a random id of n characters.
func IDBits(n int) float64 { return float64(n) * math.Log2(float64(len(idAlphabet))) }

// ValidID reports whether id can name a paste: 1 to MaxIDLength characters
// of [A-Za-z0-9_-]. That is every id the original pasteur wrote: 3
// characters of [A-Za-z0-9] by default in its git era, [A-Za-z0-9_-] in its
// newest version. NewID writes the lower-case subset only.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
