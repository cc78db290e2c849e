package acme

import (
	"strings"
	"testing"
)

func TestParseTSIGKey(t *testing.T) {
	const secret = "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ=="
	tests := []struct {
		in      string
		name    string
		alg     string
		wantErr string
	}{
		{"pasteur:hmac-sha256:" + secret, "pasteur.", "hmac-sha256.", ""},
		{"Upd.Example.Org.:SHA512:" + secret, "upd.example.org.", "hmac-sha512.", ""},
		{"k:hmac-sha384.:" + secret, "k.", "hmac-sha384.", ""},
		{"k:hmac-md5:" + secret, "", "", "too weak"},
		{"k:hmac-sha1:" + secret, "", "", "too weak"},
		{"k:rsa:" + secret, "", "", "unknown algorithm"},
		{"k:hmac-sha256:not*base64", "", "", "base64"},
		{"k:hmac-sha256:c2hvcnQ=", "", "", "at least 16"},
		{"k:hmac-sha256", "", "", "NAME:ALGORITHM:SECRET"},
		{"", "", "", "NAME:ALGORITHM:SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			k, err := ParseTSIGKey(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || k.Name != tt.name || k.Algorithm != tt.alg || k.Secret != secret {
				t.Fatalf("got %+v, %v", k, err)
			}
			if strings.Contains(k.String(), secret) {
				t.Errorf("String shows the secret: %s", k)
			}
		})
	}
}
