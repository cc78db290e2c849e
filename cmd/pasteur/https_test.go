package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/acme"
)

const testSecret = "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ=="

func TestHTTPSUsageErrors(t *testing.T) {
	h := []string{"--https", "--hostname", "paste.example.org"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--hostname", "paste.example.org"}, "add --https"},
		{[]string{"--dns-key", "k:hmac-sha256:" + testSecret}, "add --https"},
		{[]string{"--https"}, "needs --hostname"},
		{[]string{"--https", "--hostname", "paste"}, "--hostname"},
		{[]string{"--https", "--hostname", "http://paste.example.org"}, "--hostname"},
		{append(h, "--production", "--acme-directory", "https://ca.example/dir"), "give one"},
		{append(h, "--acme-directory", "http://ca.example/dir"), "https URL"},
		{append(h, "--acme-ca-file", "/no/such/file"), "--acme-ca-file"},
		{append(h, "--port", "80"), "--port 80"},
		{append(h, "--challenge", "tls-sni-01"), "--challenge"},
		{append(h, "--challenge", "dns-01"), "needs --dns-key"},
		{append(h, "--dns-key", "k:hmac-sha256:"+testSecret), "needs --dns-key NAME:ALG:SECRET and --dns-addr"},
		{append(h, "--dns-key", "k:hmac-md5:"+testSecret, "--dns-addr", "10.0.0.1"), "too weak"},
		{append(h, "--dns-key", "k:hmac-sha256", "--dns-addr", "10.0.0.1"), "--dns-key"},
		{append(h, "--challenge", "http-01", "--dns-key", "k:hmac-sha256:"+testSecret, "--dns-addr", "10.0.0.1"), "are for --challenge dns-01"},
		{append(h, "--account-seed", "short"), "--account-seed"},
		{append(h, "--cert-seed", "short"), "--cert-seed"},
		{append(h, "--email", "nobody"), "--email"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			last := lastLine(errb.String())
			if code != exitUsage || !strings.Contains(last, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errb.String(), exitUsage, tt.want)
			}
		})
	}
}

func TestHTTPSDefaults(t *testing.T) {
	data := t.TempDir()
	c, err := parseServeFlags([]string{"--data", data, "--https", "--hostname", "paste.example.org",
		"--dns-key", "k:hmac-sha256:" + testSecret, "--dns-addr", "10.0.0.1", "--account-seed", "0123456789abcdef0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := c.https
	if c.port != 443 || h.challenge != acme.DNS01 || h.certDir != filepath.Join(data, "acme") ||
		h.directoryURL() != acme.LetsEncryptStagingURL || h.accountKey == nil || h.certKey != nil || h.dnsPort != 53 {
		t.Fatalf("defaults: port %d %+v", c.port, h)
	}
	c, err = parseServeFlags([]string{"--https", "--hostname", "paste.example.org", "--production", "--port", "8443"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.port != 8443 || c.https.challenge != acme.HTTP01 || c.https.directoryURL() != acme.LetsEncryptURL {
		t.Fatalf("port %d %+v", c.port, c.https)
	}
}

func TestHelpDocumentsHTTPSFlags(t *testing.T) {
	var out, errb bytes.Buffer
	run([]string{"--help"}, &out, &errb)
	for _, f := range []string{"-https", "-hostname", "-email", "-production", "-acme-directory", "-acme-ca-file",
		"-challenge", "-dns-key", "-dns-addr", "-dns-port", "-account-seed", "-cert-seed", "-cert-dir"} {
		if help := out.String() + errb.String(); !strings.Contains(help, f+" ") && !strings.Contains(help, f+"\n") {
			t.Errorf("--help does not document %s", f)
		}
	}
}

func TestHealthz(t *testing.T) {
	pastes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("paste " + r.URL.Path)) })
	tests := []struct {
		name   string
		certs  *acme.Manager
		code   int
		status string
	}{
		{"http", nil, 200, "ok"},
		{"https without a certificate", &acme.Manager{Hosts: []string{"paste.example.org"}}, 503, "degraded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := withHealth(pastes, tt.certs)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
			var body struct {
				Status string          `json:"status"`
				HTTPS  json.RawMessage `json:"https"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != tt.code || body.Status != tt.status {
				t.Fatalf("%d %s (%v)", w.Code, w.Body, err)
			}
			if body.HTTPS != nil || w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("public body %s, content type %q", w.Body, w.Header().Get("Content-Type"))
			}
			// The details are on the metrics address.
			w = httptest.NewRecorder()
			healthDetails(tt.certs).ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != tt.code || (tt.certs != nil) != (body.HTTPS != nil) {
				t.Errorf("details: %d %s (%v)", w.Code, w.Body, err)
			}
			w = httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/abc", nil))
			if w.Body.String() != "paste /abc" {
				t.Errorf("other paths: %q", w.Body)
			}
		})
	}
}
