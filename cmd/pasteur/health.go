package main

import (
	"encoding/json"
	"net/http"

	"github.com/pasteur-dev/pasteur/acme"
)

// health is the body of GET /healthz.
type health struct {
	Status string       `json:"status"`          // "ok", or what is wrong
	HTTPS  *acme.Status `json:"https,omitempty"` // the certificate, with --https
}

// withHealth serves GET /healthz in front of h: 200 and {"status": "ok"},
// with the certificate's state under "https" when certs is not nil; 503
// when HTTPS has no valid certificate to serve.
func withHealth(h http.Handler, certs *acme.Manager) http.Handler {
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
