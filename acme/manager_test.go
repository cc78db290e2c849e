package acme

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testlog"
)

// server is a Manager's ports on loopback: port 80 (HTTPHandler) and
// port 443 (TLSConfig), on the ports Pebble validates.
type server struct {
	httpPort, tlsPort int
	tlsAddr           string
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{httpPort: freePort(t), tlsPort: freePort(t)}
	s.tlsAddr = net.JoinHostPort("127.0.0.1", itoa(s.tlsPort))
	return s
}

// serve runs m's handlers on s's ports until the test ends.
func (s *server) serve(t *testing.T, m *Manager) {
	t.Helper()
	ln80, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(s.httpPort)))
	if err != nil {
		t.Fatal(err)
	}
	ln443, err := net.Listen("tcp", s.tlsAddr)
	if err != nil {
		ln80.Close()
		t.Fatal(err)
	}
	h80 := &http.Server{Handler: m.HTTPHandler(nil)}
	h443 := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) }), TLSConfig: m.TLSConfig()}
	go h80.Serve(ln80)
	go h443.ServeTLS(ln443, "", "")
	t.Cleanup(func() { h80.Close(); h443.Close() })
}

func itoa(i int) string { return strconv.Itoa(i) }

// run starts m.Run until the test ends.
func run(t *testing.T, m *Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitSerial waits until m serves a valid certificate whose serial is not
// old, and returns the serial.
func waitSerial(t *testing.T, m *Manager, old string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := m.Status()
		if st.Valid && st.Serial != old {
			return st.Serial
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: status %+v", timeout, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// handshake connects to addr as a client that trusts roots and returns the
// serial of the certificate it was shown.
func handshake(t *testing.T, addr string, p *testPebble) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: p.roots, ServerName: "paste.example.test"})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

// TestManagerWithPebble gets certificates from Pebble with each solver,
// serves them, reuses the cached one after a restart, and renews a
// short-lived one while serving.
func TestManagerWithPebble(t *testing.T) {
	dnsSrv := newTestDNS(t)
	srv := newServer(t)
	// Certificates live 30 s: renewal is due 20 s after issuance, which
	// leaves 10 s for the renewal itself on a loaded machine (6 s
	// certificates expired before a renewal finished under a parallel
	// test run).
	p := startPebble(t, dnsSrv.addr, srv.httpPort, srv.tlsPort, 30*time.Second)
	newManager := func(t *testing.T, s Solver, cache Cache) *Manager {
		return &Manager{
			Hosts: []string{"paste.example.test"}, Email: "test@example.test",
			DirectoryURL: p.dir, HTTPClient: p.client, Solver: s, Cache: cache,
			Logger: testlog.New(t), retryMin: 200 * time.Millisecond,
		}
	}
	solvers := []struct {
		name string
		new  func() Solver
	}{
		{HTTP01, func() Solver { return &HTTP01Solver{} }},
		{TLSALPN01, func() Solver { return &TLSALPN01Solver{} }},
		{DNS01, func() Solver { return &DNS01Solver{Server: dnsSrv.addr, Key: dnsSrv.key, Dial: dial} }},
	}
	for _, sv := range solvers {
		t.Run(sv.name, func(t *testing.T) {
			cache := DirCache(t.TempDir())
			m := newManager(t, sv.new(), cache)
			srv.serve(t, m)
			run(t, m)
			serial := waitSerial(t, m, "", 30*time.Second)
			if got := handshake(t, srv.tlsAddr, p); got != serial {
				t.Errorf("served %s, Status says %s", got, serial)
			}
			if sv.name == DNS01 && len(dnsSrv.records("_acme-challenge.paste.example.test")) != 0 {
				t.Errorf("TXT record left after issuance")
			}
		})
	}

	t.Run("cache", func(t *testing.T) {
		cache := DirCache(t.TempDir())
		key, _ := KeyFromSeed([]byte("a seed of sixteen bytes or more"), "certificate")
		m := newManager(t, nil, cache)
		m.CertKey = key
		srv.serve(t, m)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := m.check(); err != nil {
			t.Fatal(err)
		}
		if err := m.obtain(ctx); err != nil {
			t.Fatal(err)
		}
		orders := p.orders()
		// A new Manager on the same cache serves the same certificate
		// without asking the CA.
		m2 := newManager(t, nil, cache)
		m2.CertKey = key
		m2.check()
		m2.loadCached(ctx)
		if st := m2.Status(); !st.Valid || !st.FromCache || st.Serial != m.Status().Serial {
			t.Fatalf("after restart: %+v", st)
		}
		if p.orders() != orders {
			t.Errorf("a restart ordered a certificate")
		}
		// Another certificate key (a changed --cert-seed) ignores it.
		m3 := newManager(t, nil, cache)
		m3.CertKey, _ = KeyFromSeed([]byte("another seed of sixteen bytes"), "certificate")
		m3.check()
		m3.loadCached(ctx)
		if m3.Status().Serving {
			t.Errorf("served a cached certificate for another key")
		}
	})

	t.Run("renewal", func(t *testing.T) {
		m := newManager(t, &HTTP01Solver{}, nil)
		srv.serve(t, m)
		run(t, m)
		first := waitSerial(t, m, "", 30*time.Second)
		// Handshakes keep succeeding while the certificate is replaced.
		deadline := time.Now().Add(45 * time.Second)
		seen := map[string]bool{}
		for n := 0; len(seen) < 2; n++ {
			if time.Now().After(deadline) {
				t.Fatalf("no renewal within 45 s (saw %v)", seen)
			}
			seen[handshake(t, srv.tlsAddr, p)] = true
			time.Sleep(100 * time.Millisecond)
		}
		if !seen[first] {
			t.Errorf("never saw the first certificate %s: %v", first, seen)
		}
	})
}

func TestManagerErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("unreachable CA", func(t *testing.T) {
		m := &Manager{Hosts: []string{"paste.example.test"}, DirectoryURL: "https://127.0.0.1:1/dir", HTTPClient: &http.Client{}}
		m.check()
		err := m.obtain(ctx)
		if !errors.Is(err, ErrCAUnreachable) || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Fatalf("obtain: %v, want ErrCAUnreachable naming the CA", err)
		}
	})

	t.Run("challenge rejected", func(t *testing.T) {
		dnsSrv := newTestDNS(t)
		srv := newServer(t) // nothing listens: Pebble's connection is refused
		p := startPebble(t, dnsSrv.addr, srv.httpPort, srv.tlsPort, time.Hour)
		m := &Manager{Hosts: []string{"paste.example.test"}, DirectoryURL: p.dir, HTTPClient: p.client}
		m.check()
		err := m.obtain(ctx)
		if !errors.Is(err, ErrChallengeFailed) || !strings.Contains(err.Error(), "connection") || !strings.Contains(err.Error(), "http-01 for paste.example.test") {
			t.Fatalf("obtain: %v, want ErrChallengeFailed with the CA's problem", err)
		}
		t.Log(err)
		m.recordError(err)
		if st := m.Status(); st.LastError == "" || st.Failures != 1 || st.Serving {
			t.Errorf("Status after a failure: %+v", st)
		}
	})

	t.Run("config", func(t *testing.T) {
		for _, m := range []*Manager{{HTTPClient: &http.Client{}}, {Hosts: []string{"a.example"}}, {Hosts: []string{"a.example:443"}, HTTPClient: &http.Client{}}} {
			if err := m.Run(ctx); err == nil {
				t.Errorf("Run(%+v) accepted the configuration", m)
			}
		}
	})
}

func TestBackoff(t *testing.T) {
	m := &Manager{}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		if got := m.backoff(i+1, errors.New("x")); got != w {
			t.Errorf("failure %d: %s, want %s", i+1, got, w)
		}
	}
	if got := m.backoff(30, nil); got != time.Hour {
		t.Errorf("many failures: %s, want an hour", got)
	}
	rl := &rateLimitError{after: 3 * time.Hour, err: ErrRateLimited}
	if got := m.backoff(1, rl); got != 3*time.Hour {
		t.Errorf("rate limited: %s, want the CA's 3h", got)
	}
}
