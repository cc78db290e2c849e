// Package githttp serves bare Git repositories with git's own smart-HTTP
// server, git http-backend, run as a CGI program by net/http/cgi behind
// HTTP basic authentication: a real https remote for tests and benchmarks.
package githttp

import (
	"crypto/subtle"
	"net/http"
	"net/http/cgi"
)

// Config describes a Handler.
type Config struct {
	// Root holds the bare repositories, named by the URL's path.
	Root string
	// Backend is the path of git-http-backend (in `git --exec-path`).
	Backend string
	// Env is added to the backend's environment.
	Env []string
	// User is the one user name accepted; "" accepts any non-empty name
	// with the password, as forges take access tokens.
	User string
	// Password every request must carry.
	Password string
	// Refused, when set, is told of each request refused for its
	// credentials.
	Refused func(r *http.Request, user string)
}

// Handler returns the handler: every repository under Root is exported
// and takes pushes from an authenticated user.
func Handler(c Config) http.Handler {
	backend := &cgi.Handler{
		Path: c.Backend,
		Env:  append([]string{"GIT_PROJECT_ROOT=" + c.Root, "GIT_HTTP_EXPORT_ALL=1"}, c.Env...),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		ok = ok && u != "" && (c.User == "" || u == c.User)
		if !ok || subtle.ConstantTimeCompare([]byte(p), []byte(c.Password)) != 1 {
			if c.Refused != nil {
				c.Refused(r, u)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// git http-backend takes pushes from authenticated users only.
		b := *backend
		b.Env = append(b.Env[:len(b.Env):len(b.Env)], "REMOTE_USER="+u)
		b.ServeHTTP(w, r)
	})
}
