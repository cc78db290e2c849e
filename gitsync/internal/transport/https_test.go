package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"path/filepath"
	"testing"

	gittransport "github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
)

// startHTTPS serves the repositories in base with git http-backend (git's
// own, as a CGI) behind basic auth for password, with any user name, over
// TLS on loopback, and returns its URL and the pool that trusts it.
func startHTTPS(t *testing.T, base, password string) (string, *x509.CertPool) {
	t.Helper()
	gittest.Require(t)
	backend := &cgi.Handler{
		Path: filepath.Join(gittest.ExecPath(t), "git-http-backend"),
		Env:  append(gittest.Env(t), "GIT_PROJECT_ROOT="+base, "GIT_HTTP_EXPORT_ALL=1"),
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u == "" || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		// http-backend takes pushes from an authenticated user only.
		b := *backend
		b.Env = append(b.Env, "REMOTE_USER="+u)
		b.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv.URL, pool
}

func TestHTTPS(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "r.git")
	gittest.Bare(t, dir, true)
	srv, pool := startHTTPS(t, base, "t0ken")

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
