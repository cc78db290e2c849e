package acme

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHTTPHandler(t *testing.T) {
	s := &HTTP01Solver{}
	m := &Manager{Solver: s}
	ch := Challenge{Type: HTTP01, Domain: "paste.example.test", Token: "tok", KeyAuth: "tok.thumb"}
	if err := s.Present(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	h := m.HTTPHandler(nil)
	tests := []struct {
		method, target, host string
		code                 int
		body, location       string
	}{
		{"GET", "/.well-known/acme-challenge/tok", "paste.example.test:80", 200, "tok.thumb", ""},
		{"GET", "/.well-known/acme-challenge/other", "paste.example.test", 404, "", ""},
		{"GET", "/abc?raw=true", "paste.example.test", 301, "", "https://paste.example.test/abc?raw=true"},
		{"HEAD", "/", "paste.example.test:80", 301, "", "https://paste.example.test/"},
		{"POST", "/", "paste.example.test", 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(tt.method, tt.target, nil)
			r.Host = tt.host
			h.ServeHTTP(w, r)
			if w.Code != tt.code || (tt.body != "" && w.Body.String() != tt.body) || w.Header().Get("Location") != tt.location {
				t.Fatalf("%d %q Location %q; want %d %q %q", w.Code, w.Body, w.Header().Get("Location"), tt.code, tt.body, tt.location)
			}
		})
	}
	// Once cleaned up, the answer is gone.
	s.CleanUp(context.Background(), ch)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/acme-challenge/tok", nil))
	if w.Code != 404 {
		t.Errorf("after CleanUp: %d", w.Code)
	}
}

func TestHTTPSRedirectPort(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/x", nil)
	r.Host = "paste.example.test"
	HTTPSRedirect(8443).ServeHTTP(w, r)
	if got := w.Header().Get("Location"); w.Code != http.StatusMovedPermanently || got != "https://paste.example.test:8443/x" {
		t.Fatalf("%d %q", w.Code, got)
	}
}
