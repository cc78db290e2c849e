package acme

import (
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	xacme "golang.org/x/crypto/acme"
)

// Directory URLs of Let's Encrypt.
const (
	LetsEncryptURL        = "https://acme-v02.api.letsencrypt.org/directory"
	LetsEncryptStagingURL = "https://acme-staging-v02.api.letsencrypt.org/directory"
)

// A Manager obtains, caches, serves and renews one certificate for Hosts.
// Set its fields, then call Run; the fields must not change afterwards.
// Its methods may be called concurrently.
type Manager struct {
	// Hosts are the DNS names the certificate is for. Required.
	Hosts []string

	// Email is the account's contact address, for the CA's expiry
	// notices. Optional.
	Email string

	// DirectoryURL is the CA's ACME directory. Empty means
	// LetsEncryptStagingURL, whose certificates browsers do not trust:
	// set LetsEncryptURL for production.
	DirectoryURL string

	// HTTPClient carries every request to the CA, and so chooses the
	// network and the roots trusted for the CA's own HTTPS. Required.
	HTTPClient *http.Client

	// Solver answers the CA's challenges. Nil means an HTTP01Solver, which
	// needs HTTPHandler on port 80.
	Solver Solver

	// Cache keeps the account key and the certificate with its key, so
	// that a restart reuses them. Nil means nothing outlives the process.
	Cache Cache

	// AccountKey is the ACME account's key (see KeyFromSeed). Nil means
	// the key in Cache, or a new ECDSA P-256 key stored there.
	AccountKey crypto.Signer

	// CertKey is the certificate's private key (see KeyFromSeed). Nil
	// means a new ECDSA P-256 key for each certificate. A cached
	// certificate for another key is not used.
	CertKey crypto.Signer

	// Logger receives what the Manager does; errors are logged at level
	// Error. Nil means no logging.
	Logger *slog.Logger

	initOnce sync.Once
	initErr  error
	dflt     Solver // the Solver when Solver is nil

	cert atomic.Pointer[tls.Certificate] // what GetCertificate serves

	clientMu sync.Mutex
	client   *xacme.Client // registered, once an order succeeded in reaching the CA

	mu    sync.Mutex
	state state

	now      func() time.Time // for tests; time.Now when nil
	retryMin time.Duration    // first retry after a failure; a minute when zero
}

// Timing of attempts.
const (
	defaultRetryMin = time.Minute
	retryMax        = time.Hour
	orderTimeout    = 10 * time.Minute
)

// Run obtains the certificate, from the Cache when it holds a usable one or
// else from the CA, then renews it whenever a third of its lifetime is
// left, until ctx ends. A failed attempt is logged, recorded in Status and
// retried with exponential backoff (from a minute up to an hour, longer if
// the CA's rate limit says so) while the current certificate, if any, is
// still served. Run returns an error at once only when the Manager is
// misconfigured; otherwise it returns nil when ctx ends. Call it once.
func (m *Manager) Run(ctx context.Context) error {
	if err := m.check(); err != nil {
		return err
	}
	m.loadCached(ctx)
	failures := 0
	for {
		wait := time.Duration(0)
		if c := m.cert.Load(); c != nil {
			wait = renewAt(c.Leaf.NotBefore, c.Leaf.NotAfter).Sub(m.clock())
		}
		if failures > 0 {
			wait = m.backoff(failures, m.lastErr())
		}
		if wait > 0 {
			m.setNext(m.clock().Add(wait))
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		err := m.obtain(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			failures++
			m.recordError(err)
			m.log().Error("cannot obtain a certificate", "hosts", m.Hosts, "attempt", failures, "err", err,
				"retry_in", m.backoff(failures, err).Round(time.Second).String(), "serving_old", m.cert.Load() != nil)
			continue
		}
		failures = 0
	}
}

// GetCertificate returns the certificate for a TLS handshake; it fits
// tls.Config.GetCertificate. It serves the current certificate whatever
// name the client asks for, answers tls-alpn-01 validations when the
// Solver is a TLSALPN01Solver, and fails with ErrNoCertificate before the
// first certificate is obtained.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if isALPNChallenge(hello) {
		if s, ok := m.solver().(*TLSALPN01Solver); ok {
			if c, ok := s.cert(hello.ServerName); ok {
				m.log().Info("answering tls-alpn-01 challenge", "host", hello.ServerName)
				return c, nil
			}
		}
		return nil, fmt.Errorf("acme: no tls-alpn-01 challenge pending for %q", hello.ServerName)
	}
	if c := m.cert.Load(); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("%w for %s", ErrNoCertificate, strings.Join(m.Hosts, ", "))
}

// TLSConfig returns a TLS configuration that serves the Manager's
// certificate (and tls-alpn-01 challenges), for http.Server.TLSConfig or
// tls.NewListener.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: m.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1", alpnProto},
		MinVersion:     tls.VersionTLS12,
	}
}

// directory is the CA's directory URL.
func (m *Manager) directory() string {
	if m.DirectoryURL == "" {
		return LetsEncryptStagingURL
	}
	return m.DirectoryURL
}

// check reports what is wrong with the Manager's configuration, once.
func (m *Manager) check() error {
	m.initOnce.Do(func() {
		switch {
		case len(m.Hosts) == 0:
			m.initErr = errors.New("acme: Manager has no Hosts")
		case m.HTTPClient == nil:
			m.initErr = errors.New("acme: Manager has no HTTPClient")
		}
		for _, h := range m.Hosts {
			if err := CheckHostname(h); err != nil {
				m.initErr = err
			}
		}
		if _, err := url.Parse(m.directory()); err != nil {
			m.initErr = fmt.Errorf("acme: directory URL: %w", err)
		}
	})
	return m.initErr
}

// solver returns the Solver in use.
func (m *Manager) solver() Solver {
	if m.Solver != nil {
		return m.Solver
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dflt == nil {
		m.dflt = &HTTP01Solver{}
	}
	return m.dflt
}

// backoff is how long to wait after the failures-th failure in a row.
func (m *Manager) backoff(failures int, err error) time.Duration {
	d := m.retryMin
	if d == 0 {
		d = defaultRetryMin
	}
	for i := 1; i < failures && d < retryMax; i++ {
		d *= 2
	}
	d = min(d, retryMax)
	if after, ok := retryAfter(err); ok && after > d {
		d = after
	}
	return d
}

func (m *Manager) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}

func (m *Manager) log() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}
