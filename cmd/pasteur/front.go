package main

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/pasteur-dev/pasteur/internal/auth"
	"github.com/pasteur-dev/pasteur/internal/clientaddr"
	"github.com/pasteur-dev/pasteur/internal/metrics"
	"github.com/pasteur-dev/pasteur/internal/ratelimit"
)

// front puts in front of the website h what a server facing the internet
// needs, outermost first: the client's address, the metrics and access
// log, the rate limit on new pastes, and the users of --auth.
func front(h http.Handler, cfg *limitsConfig, clients *clientaddr.Resolver, m *metrics.Metrics, log *slog.Logger) (http.Handler, error) {
	clientOf := func(r *http.Request) netip.Addr { return clientaddr.From(r.Context()) }
	var lim *ratelimit.Limiter
	if cfg.rate.N > 0 {
		var err error
		if lim, err = ratelimit.New(ratelimit.Config{Rate: cfg.rate, OnReject: m.RateLimited}); err != nil {
			return nil, err
		}
	}
	if cfg.authFile != "" {
		users, err := auth.OpenFile(cfg.authFile, log.With("component", "auth"))
		if err != nil {
			return nil, err
		}
		log.Info("pasting needs a user", "file", cfg.authFile, "users", users.Len(), "reading_too", cfg.authRead)
		basic := &auth.Basic{
			Users:     users,
			Required:  authRequired(cfg.authRead),
			OnFailure: func(*http.Request) { m.AuthFailed() },
		}
		if lim != nil {
			// A wrong password spends a token of the client's, and a
			// client without one cannot try a password: guessing is
			// held to the rate of pastes. (A request with no
			// credentials, a browser's first, spends nothing.)
			basic.OnFailure = func(r *http.Request) {
				m.AuthFailed()
				if _, _, tried := r.BasicAuth(); tried {
					lim.Allow(clientOf(r))
				}
			}
			basic.Throttle = func(r *http.Request) (time.Duration, bool) {
				blocked, wait := lim.Blocked(clientOf(r))
				if blocked {
					m.RateLimited()
				}
				return wait, blocked
			}
		}
		h = basic.Handler(h)
	}
	if lim != nil {
		h = lim.Handler(h, clientOf, creates)
	}
	h = metrics.Requests(h, m, log.With("component", "access"), newRouteNamer())
	return clients.Handler(h), nil
}

// creates selects the requests that store something: every method but
// GET and HEAD.
func creates(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead
}

// authRequired selects the requests that need a user: creating pastes and
// the form that does it (so that a browser asks for the password before
// the paste is typed), deleting them, and with readToo everything but
// /healthz. POST /ID is a read: the page's button that reads a paste that
// burns.
func authRequired(readToo bool) func(*http.Request) bool {
	return func(r *http.Request) bool {
		if readToo {
			return r.URL.Path != "/healthz"
		}
		if r.Method == http.MethodPost && r.URL.Path != "/" {
			return false
		}
		return creates(r) || r.URL.Path == "/"
	}
}

// newRouteNamer returns what names the website's routes for the metrics
// and the access log: a bounded set, whatever clients ask for; "other"
// for what no route serves.
func newRouteNamer() func(*http.Request) string {
	routes := http.NewServeMux()
	for _, p := range []string{"GET /{$}", "POST /{$}", "GET /{id}", "GET /static/", "GET /healthz", "GET /.well-known/acme-challenge/"} {
		routes.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	return func(r *http.Request) string {
		if _, p := routes.Handler(r); p != "" {
			return p
		}
		return "other"
	}
}
