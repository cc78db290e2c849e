package acme

import (
	"errors"
	"fmt"
	"strings"
)

// ErrHostname is wrapped by CheckHostname's error.
var ErrHostname = errors.New("not a DNS name")

// CheckHostname reports why name cannot be a certificate's host name (a
// fully qualified DNS name such as paste.example.org: dot-separated labels
// of letters, digits and inner hyphens, with no port, no trailing dot and
// no wildcard), or nil if it can.
func CheckHostname(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("acme: %q is %w: %s", name, ErrHostname, why)
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > 253:
		return bad("longer than 253 bytes")
	case !strings.Contains(name, "."):
		return bad("want a name with a domain, such as paste.example.org")
	}
	for _, l := range strings.Split(name, ".") {
		switch {
		case l == "":
			return bad("empty label")
		case len(l) > 63:
			return bad("label longer than 63 bytes")
		case strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-"):
			return bad("label starts or ends with a hyphen")
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return bad(fmt.Sprintf("%q is not a letter, digit or hyphen", r))
			}
		}
	}
	return nil
}
