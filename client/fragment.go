package client

import (
	"strconv"
	"strings"

	"github.com/pasteur-dev/pasteur/seal"
)

// keyLen is the length of a key in a fragment: 32 bytes in base64url.
const keyLen = 43

// ParseFragment reads a paste URL's fragment (without its #): the key of
// an encrypted paste, and the selected lines from..to (0 for none). A
// fragment in neither form is taken whole as a key, as the page does, so
// that it fails as a wrong key.
//
//	KEY  KEY-L12  KEY-L12-L20  L12  L12-L20
//
// The original pasteur's key (base64 of a JSON Web Key, standard alphabet,
// which has no '-') is read too, alone or followed by -L12 or -L12-L20 as
// pasteur's page writes line selections.
func ParseFragment(f string) (key string, from, to int) {
	if i := strings.Index(f, "-L"); i > 0 && isLegacyKey(f[:i]) {
		if from, to, ok := parseLines(f[i+1:]); ok {
			return f[:i], from, to
		}
	}
	if isLegacyKey(f) {
		return f, 0, 0
	}
	rest := f
	if len(f) >= keyLen && isKey(f[:keyLen]) && (len(f) == keyLen || f[keyLen] == '-' || f[keyLen] == 'L') {
		key, rest = f[:keyLen], strings.TrimPrefix(f[keyLen:], "-")
	}
	if rest == "" {
		return key, 0, 0
	}
	if from, to, ok := parseLines(rest); ok {
		return key, from, to
	}
	return f, 0, 0
}

// parseLines reads L12 or L12-L20 (or L12-20).
func parseLines(s string) (from, to int, ok bool) {
	a, b, ranged := strings.Cut(s, "-")
	from, ok = lineNumber(strings.TrimPrefix(a, "L"), a)
	if !ok {
		return 0, 0, false
	}
	to = from
	if ranged {
		if to, ok = lineNumber(strings.TrimPrefix(b, "L"), "L"); !ok {
			return 0, 0, false
		}
	}
	return min(from, to), max(from, to), true
}

// lineNumber reads n, a line number without leading zeros; whole must
// have started with L.
func lineNumber(n, whole string) (int, bool) {
	if !strings.HasPrefix(whole, "L") || n == "" || n[0] == '0' {
		return 0, false
	}
	v, err := strconv.Atoi(n)
	return v, err == nil && v > 0
}

// isLegacyKey reports whether s is the original's key: longer than
// pasteur's and of base64's standard alphabet, it says so when decoded.
func isLegacyKey(s string) bool {
	return len(s) > keyLen && !strings.ContainsAny(s, "-_") && seal.IsLegacyKey(s)
}

func isKey(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
