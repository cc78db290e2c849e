package main

import (
	"encoding/json"
	"net/http"

	"github.com/pasteur-dev/pasteur/acme"
	"github.com/pasteur-dev/pasteur/gitsync"
)

// health is the body of GET /healthz.
type health struct {
	Status string          `json:"status"`           // "ok", or what is wrong
	HTTPS  *acme.Status    `json:"https,omitempty"`  // the certificate, with --https
	Remote *gitsync.Status `json:"remote,omitempty"` // the Git remote, with --remote
}

// remoteStatus reports the state of the sync with the Git remote
// (gitsync.Store).
type remoteStatus interface{ Status() gitsync.Status }

// withHealth serves GET /healthz in front of h: 200 and {"status": "ok"},
// with the certificate's state under "https" when certs is not nil; 503
// when HTTPS has no valid certificate to serve. With a remote (at most
// one), its state is under "remote"; 503 when it is unreachable and pastes
// cannot be queued (no --data).
func withHealth(h http.Handler, certs *acme.Manager, remote ...remoteStatus) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
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
				body.Remote = &st
				if !st.Reachable && !st.Queueing && code == http.StatusOK {
					body.Status, code = "git remote unreachable", http.StatusServiceUnavailable
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(body)
	})
	mux.Handle("/", h)
	return mux
}
