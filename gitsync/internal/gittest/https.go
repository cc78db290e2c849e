package gittest

import (
	"crypto/x509"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/pasteur-dev/pasteur/internal/githttp"
)

// StartHTTPS serves the repositories in base with git http-backend (git's
// own, as a CGI) behind basic auth for password, with any user name, over
// TLS on loopback, and returns its URL and the pool that trusts it. It
// stops when the test ends.
func StartHTTPS(t testing.TB, base, password string) (string, *x509.CertPool) {
	t.Helper()
	Require(t)
	srv := httptest.NewUnstartedServer(githttp.Handler(githttp.Config{
		Root:     base,
		Backend:  filepath.Join(ExecPath(t), "git-http-backend"),
		Env:      Env(t),
		Password: password,
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv.URL, pool
}
