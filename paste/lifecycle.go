package paste

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A paste's life: it may expire, burn after its first read, or be deleted
// with its token. A removed paste leaves a tombstone where it was stored,
// so that every reader answers "gone" (ErrGone), not "never existed"
// (ErrNotFound).

// Reason is why a paste was removed; it is written in its tombstone.
type Reason string

// The reasons a paste is removed.
const (
	Expired Reason = "expired"
	Burned  Reason = "burned"
	Deleted Reason = "deleted"
)

// Valid reports whether r is one of the reasons above.
func (r Reason) Valid() bool { return r == Expired || r == Burned || r == Deleted }

// Tombstone is what stands where a removed paste was stored.
type Tombstone struct {
	Removed Reason    `json:"removed"`
	At      time.Time `json:"at"`
}

// MarshalTombstone encodes the tombstone of a paste removed at when for
// why. The time is kept to the nanosecond: two instances that burn the
// same paste write different tombstones, and each can tell whether its
// own is the one that stands.
func MarshalTombstone(why Reason, at time.Time) []byte {
	b, _ := json.Marshal(Tombstone{Removed: why, At: at.UTC()})
	return append(b, '\n')
}

// IsTombstone reports whether a stored document is a tombstone, and
// returns it.
func IsTombstone(data []byte) (*Tombstone, bool) {
	var t struct {
		Removed *Reason    `json:"removed"`
		At      *time.Time `json:"at"`
	}
	if json.Unmarshal(data, &t) != nil || t.Removed == nil {
		return nil, false
	}
	ts := &Tombstone{Removed: *t.Removed}
	if t.At != nil {
		ts.At = *t.At
	}
	return ts, true
}

// ExpiredAt reports whether p has expired at now.
func (p *Paste) ExpiredAt(now time.Time) bool {
	return !p.Expires.IsZero() && !now.Before(p.Expires)
}

// tokenBytes is the size of a delete token: 128 random bits.
const tokenBytes = 16

// NewDeleteToken returns a new random delete token and the hash of it
// that the paste keeps (the token itself is given to its author once).
func NewDeleteToken() (token, hash string, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("paste: random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken is the hash of a delete token as a paste keeps it:
// "sha256:" and the hex SHA-256 of the token's text.
func HashToken(token string) string {
	const prefix = "sha256:"
	sum := sha256.Sum256([]byte(token))
	var b [len(prefix) + 2*sha256.Size]byte
	copy(b[:], prefix)
	hex.Encode(b[len(prefix):], sum[:])
	return string(b[:])
}

// TokenMatches reports, in constant time, whether token is p's delete
// token. A paste without one matches no token.
func (p *Paste) TokenMatches(token string) bool {
	if p.DeleteHash == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashToken(token)), []byte(p.DeleteHash)) == 1
}

// ParseExpiry reads an expiry: "never" (or "") is 0, else a positive
// number and one unit of s, m, h, d, w, y (a day is 24 hours, a week 7
// days, a year 365 days): "90s", "10m", "1d", "1w", "1y".
func ParseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || s == "never" {
		return 0, nil
	}
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour,
		'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}
	unit, ok := units[s[len(s)-1]]
	if !ok {
		return 0, fmt.Errorf("%w: expiry %q: want never, or a number and one of s, m, h, d, w, y (10m, 1d)", ErrInvalid, s)
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 32)
	if err != nil || n == 0 || time.Duration(n) > (1<<62)/unit {
		return 0, fmt.Errorf("%w: expiry %q: want a positive number before the unit (10m, 1d)", ErrInvalid, s)
	}
	return time.Duration(n) * unit, nil
}

// FormatExpiry writes d as ParseExpiry reads it, in the largest unit that
// divides it; 0 is "never".
func FormatExpiry(d time.Duration) string {
	if d <= 0 {
		return "never"
	}
	for _, u := range []struct {
		c byte
		d time.Duration
	}{{'y', 365 * 24 * time.Hour}, {'w', 7 * 24 * time.Hour}, {'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + string(u.c)
		}
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}
