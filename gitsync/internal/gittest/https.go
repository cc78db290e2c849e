package gittest

import (
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// StartHTTPS serves the repositories in base with git http-backend (git's
// own, as a CGI) behind basic auth for password, with any user name, over
// TLS on loopback, and returns its URL and the pool that trusts it. It
// stops when the test ends.
func StartHTTPS(t testing.TB, base, password string) (string, *x509.CertPool) {
	t.Helper()
	Require(t)
	backend := &cgi.Handler{
		Path: filepath.Join(ExecPath(t), "git-http-backend"),
		Env:  append(Env(t), "GIT_PROJECT_ROOT="+base, "GIT_HTTP_EXPORT_ALL=1"),
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
