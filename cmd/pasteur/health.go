package main

import (
	"encoding/json"
	"net/http"

	"github.com/pasteur-dev/pasteur/acme"
	"github.com/pasteur-dev/pasteur/gitsync"
)

// health is the body of GET /healthz on the metrics address; the public
// /healthz shows Status alone, "ok" or "degraded".
type health struct {
	Status string           `json:"status"`           // "ok", or what is wrong
	HTTPS  *acme.Status     `json:"https,omitempty"`  // the certificate, with --https
	Remote *gitsync.Status  `json:"remote,omitempty"` // the Git remote, with --remote
	Shards []gitsync.Status `json:"shards,omitempty"` // each shard's remote, with --shards 2 or more
}

// remoteStatus reports the state of the sync with the Git remote
// (gitsync.Store).
type remoteStatus interface{ Status() gitsync.Status }

// checkHealth returns the server's health and its status code: 503 when
// HTTPS has no valid certificate to serve (certs not nil), or when the
// remote is unreachable and pastes cannot be queued (no --data); 200
// otherwise. With several remotes (shards), each one's state is in
// "shards", in shard order, and any one of them can make it 503.
func checkHealth(certs *acme.Manager, remote ...remoteStatus) (health, int) {
	body, code := health{Status: "ok"}, http.StatusOK
	if certs != nil {
		st := certs.Status()
		body.HTTPS = &st
		if !st.Valid {
			body.Status, code = "no valid certificate", http.StatusServiceUnavailable
		}
	}
	for _, r := range remote {
		if st := r.Status(); st.Remote != "" {
			if len(remote) > 1 {
				body.Shards = append(body.Shards, st)
			} else {
				body.Remote = &st
			}
			if !st.Reachable && !st.Queueing && code == http.StatusOK {
				body.Status, code = "git remote unreachable", http.StatusServiceUnavailable
			}
		}
	}
	return body, code
}

// withHealth serves GET /healthz in front of h, for everyone: 200 and
// {"status": "ok"}, or 503 and {"status": "degraded"} (see checkHealth).
// The details (the remote's URL, errors naming internal addresses) are
// for the operator, on the metrics address (healthDetails).
func withHealth(h http.Handler, certs *acme.Manager, remote ...remoteStatus) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, code := checkHealth(certs, remote...)
		body := health{Status: "ok"}
		if code != http.StatusOK {
			body.Status = "degraded"
		}
		writeHealth(w, code, body)
	})
	mux.Handle("/", h)
	return mux
}

// healthDetails serves the whole of checkHealth's answer.
func healthDetails(certs *acme.Manager, remote ...remoteStatus) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, code := checkHealth(certs, remote...)
		writeHealth(w, code, body)
	}
}

func writeHealth(w http.ResponseWriter, code int, body health) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(body)
}
