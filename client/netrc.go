package client

import (
	"strings"
)

// Credentials are a user name and password for a server that needs them
// (HTTP basic authentication).
type Credentials struct {
	User     string
	Password string
}

// ParseNetrc finds the credentials for host (a host name, no port) in the
// contents of a .netrc file: the first "machine host" entry, else the
// "default" entry; when user is not empty, only an entry whose login is
// user. Tokens are separated by white space; "macdef" definitions are
// skipped up to their blank line; values with spaces are not supported
// (as in most readers).
func ParseNetrc(b []byte, host, user string) (Credentials, bool) {
	var (
		found    Credentials
		inEntry  bool // the current entry is for host (or default)
		isDef    bool
		cur      Credentials
		fallback *Credentials
	)
	match := func() bool {
		return inEntry && cur.Password != "" && (user == "" || cur.User == user)
	}
	done := func() bool {
		if !match() {
			return false
		}
		if !isDef {
			found = cur
			return true
		}
		if fallback == nil {
			c := cur
			fallback = &c
		}
		return false
	}
	text := string(b)
	for len(text) > 0 {
		// macdef NAME ... ends at the first empty line.
		var tok string
		tok, text = nextToken(text)
		switch tok {
		case "":
		case "machine", "default":
			if done() {
				return found, true
			}
			isDef = tok == "default"
			name := ""
			if !isDef {
				name, text = nextToken(text)
			}
			inEntry = isDef || strings.EqualFold(name, host)
			cur = Credentials{}
		case "login":
			cur.User, text = nextToken(text)
		case "password":
			cur.Password, text = nextToken(text)
		case "account":
			_, text = nextToken(text)
		case "macdef":
			if i := strings.Index(text, "\n\n"); i >= 0 {
				text = text[i+2:]
			} else {
				text = ""
			}
		}
	}
	if done() {
		return found, true
	}
	if fallback != nil {
		return *fallback, true
	}
	return Credentials{}, false
}

// nextToken returns the next white-space separated token of s, and the
// rest.
func nextToken(s string) (string, string) {
	s = strings.TrimLeft(s, " \t\r\n")
	i := strings.IndexAny(s, " \t\r\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}
