package acme

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// HTTP01Solver answers http-01 challenges: the CA fetches
// http://DOMAIN/.well-known/acme-challenge/TOKEN on port 80, which
// Manager.HTTPHandler serves. Its zero value is ready to use.
type HTTP01Solver struct {
	mu      sync.Mutex
	answers map[string]string // path -> key authorization
}

// Type returns HTTP01.
func (s *HTTP01Solver) Type() string { return HTTP01 }

// Present publishes ch's answer.
func (s *HTTP01Solver) Present(ctx context.Context, ch Challenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answers == nil {
		s.answers = make(map[string]string)
	}
	s.answers[ch.HTTPPath()] = ch.KeyAuth
	return nil
}

// CleanUp withdraws ch's answer.
func (s *HTTP01Solver) CleanUp(ctx context.Context, ch Challenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.answers, ch.HTTPPath())
	return nil
}

// answer returns the body to serve at path, if a challenge is pending there.
func (s *HTTP01Solver) answer(path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.answers[path]
	return a, ok
}

// challengePrefix is where http-01 answers live.
const challengePrefix = "/.well-known/acme-challenge/"

// HTTPHandler returns the handler for port 80: it answers the CA's http-01
// requests (when the Manager's Solver is an HTTP01Solver; other paths under
// /.well-known/acme-challenge/ get 404) and passes every other request to
// fallback. A nil fallback redirects to https on port 443, as
// HTTPSRedirect(443) does.
func (m *Manager) HTTPHandler(fallback http.Handler) http.Handler {
	if fallback == nil {
		fallback = HTTPSRedirect(443)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, challengePrefix) {
			fallback.ServeHTTP(w, r)
			return
		}
		s, ok := m.solver().(*HTTP01Solver)
		if !ok {
			http.NotFound(w, r)
			return
		}
		a, ok := s.answer(r.URL.Path)
		if !ok {
			m.log().Warn("unknown http-01 challenge requested", "path", r.URL.Path, "from", r.RemoteAddr)
			http.NotFound(w, r)
			return
		}
		m.log().Info("answering http-01 challenge", "host", r.Host, "from", r.RemoteAddr)
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(a))
	})
}

// HTTPSRedirect returns a handler that redirects GET and HEAD requests to
// the same host and path over https on port (443 leaves the port out of the
// URL), permanently, and answers other methods 400, so that no form is
// posted in the clear twice.
func HTTPSRedirect(port int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "Use HTTPS.", http.StatusBadRequest)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			http.Error(w, "Use HTTPS.", http.StatusBadRequest)
			return
		}
		if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
			host = "[" + host + "]"
		}
		if port != 443 {
			host += ":" + strconv.Itoa(port)
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
}
