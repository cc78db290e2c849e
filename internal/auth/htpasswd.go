package auth

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/bcrypt"
)

// ErrBadFile is returned for an htpasswd file that does not parse.
var ErrBadFile = errors.New("auth: bad htpasswd file")

// maxFileSize bounds the htpasswd file read.
const maxFileSize = 4 << 20

// ParseHtpasswd reads an htpasswd file: one "user:hash" a line, blank
// lines and lines starting with # ignored. Every hash must be bcrypt
// ($2y$, $2b$, $2a$: `htpasswd -B`); other schemes (MD5, SHA-1, crypt)
// are refused rather than ignored, so that no user is silently locked
// out. Errors name the line, never its contents.
func ParseHtpasswd(b []byte) (map[string][]byte, error) {
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%w: over %d bytes", ErrBadFile, maxFileSize)
	}
	users := make(map[string][]byte)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), maxFileSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: line %d: want user:hash", ErrBadFile, n)
		case !validUser(user):
			return nil, fmt.Errorf("%w: line %d: the user name is empty or holds spaces or control characters", ErrBadFile, n)
		case users[user] != nil:
			return nil, fmt.Errorf("%w: line %d: user %q appears twice", ErrBadFile, n, user)
		}
		if !strings.HasPrefix(hash, "$2") {
			return nil, fmt.Errorf("%w: line %d: user %q: not a bcrypt hash (make it with htpasswd -B)", ErrBadFile, n, user)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("%w: line %d: user %q: %v", ErrBadFile, n, user, err)
		}
		users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFile, err)
	}
	return users, nil
}

// validUser reports whether name can be a user, and the author of a
// commit as it is: UTF-8 text without spaces, control or format characters
// (bidi overrides among them) or '<' and '>', at most 64 bytes.
func validUser(name string) bool {
	if name == "" || len(name) > 64 || strings.ContainsRune(name, unicode.ReplacementChar) || strings.ContainsAny(name, "<>") {
		return false
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Cf) {
			return false
		}
	}
	return true
}
