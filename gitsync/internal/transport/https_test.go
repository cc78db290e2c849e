package transport

import (
	"crypto/tls"
	"errors"
	"path/filepath"
	"testing"

	gittransport "github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
)

func TestHTTPS(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "r.git")
	gittest.Bare(t, dir, true)
	srv, pool := gittest.StartHTTPS(t, base, "t0ken")

	r, err := New(srv+"/r.git", dial, Auth{Token: "t0ken", RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("token", func(t *testing.T) { roundTrip(t, r, dir) })
	// The user named in the URL, the password too.
	u := "https://bob:t0ken@" + srv[len("https://"):] + "/r.git"
	if r, err = New(u, dial, Auth{RootCAs: pool}); err != nil {
		t.Fatal(err)
	}
	t.Run("password in the URL", func(t *testing.T) { roundTrip(t, r, dir) })

	var cert *tls.CertificateVerificationError
	tests := []struct {
		name string
		auth Auth
		want func(error) bool
	}{
		{"a wrong token", Auth{Token: "wrong", RootCAs: pool}, func(err error) bool {
			return errors.Is(err, gittransport.ErrAuthenticationRequired) || errors.Is(err, gittransport.ErrAuthorizationFailed)
		}},
		{"an untrusted server", Auth{Token: "t0ken"}, func(err error) bool { return errors.As(err, &cert) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(srv+"/r.git", dial, tt.auth)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Fetch(ctx(t))
			if !tt.want(err) || !Permanent(err) {
				t.Errorf("%v (permanent: %v)", err, Permanent(err))
			}
			t.Log(err)
		})
	}
}
