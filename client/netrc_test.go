package client

import "testing"

func TestParseNetrc(t *testing.T) {
	const netrc = `
machine other.example login bob password b0b
# a comment line is only tokens to skip
machine paste.example
	login alice
	password s3cret
macdef init
	machine paste.example login mallory password evil

machine paste.example login carol password c4rol
default login anon password any
`
	tests := []struct {
		host, user string
		want       Credentials
		ok         bool
	}{
		{"paste.example", "", Credentials{"alice", "s3cret"}, true},
		{"PASTE.example", "", Credentials{"alice", "s3cret"}, true},
		{"paste.example", "carol", Credentials{"carol", "c4rol"}, true},
		{"paste.example", "mallory", Credentials{}, false},
		{"other.example", "", Credentials{"bob", "b0b"}, true},
		{"unknown.example", "", Credentials{"anon", "any"}, true},
		{"unknown.example", "zed", Credentials{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseNetrc([]byte(netrc), tt.host, tt.user)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseNetrc(%s, %q) = %v, %v; want %v, %v", tt.host, tt.user, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := ParseNetrc([]byte("machine paste.example login alice"), "paste.example", ""); ok {
		t.Error("an entry without a password was taken")
	}
}

// FuzzParseNetrc reads .netrc files: no panic, and credentials found have
// a password and the asked login.
func FuzzParseNetrc(f *testing.F) {
	f.Add([]byte("machine h login u password p\ndefault login d password q"), "h", "")
	f.Add([]byte("macdef x\nmachine h login u password p"), "h", "u")
	f.Add([]byte("machine"), "", "")
	f.Fuzz(func(t *testing.T, b []byte, host, user string) {
		c, ok := ParseNetrc(b, host, user)
		if ok && (c.Password == "" || (user != "" && c.User != user)) {
			t.Fatalf("found %+v for %q", c, user)
		}
	})
}
