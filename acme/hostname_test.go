package acme

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckHostname(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"paste.example.org", true},
		{"a-b.example", true},
		{"xn--bcher-kva.example", true},
		{"", false},
		{"paste", false},
		{"paste.example.org.", false},
		{".example.org", false},
		{"a..example", false},
		{"-a.example", false},
		{"a-.example", false},
		{"a.example:443", false},
		{"http://a.example", false},
		{"*.example.org", false},
		{"a b.example", false},
		{strings.Repeat("a", 64) + ".example", false},
		{strings.Repeat("a.", 127) + "example", false},
	} {
		err := CheckHostname(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("CheckHostname(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrHostname) {
			t.Errorf("CheckHostname(%q) = %v, does not wrap ErrHostname", tc.name, err)
		}
	}
}
