package acme

import (
	"crypto/tls"
	"time"
)

// Status is the state of a Manager's certificate, for health checks. Its
// JSON form is what pasteur's /healthz shows.
type Status struct {
	Hosts     []string   `json:"hosts"`
	Directory string     `json:"directory"`
	Serving   bool       `json:"serving"`              // a certificate is served
	Valid     bool       `json:"valid"`                // ... and has not expired
	Issuer    string     `json:"issuer,omitempty"`     // its issuer's common name
	Serial    string     `json:"serial,omitempty"`     // its serial number, hex
	NotBefore *time.Time `json:"not_before,omitempty"` // its validity
	NotAfter  *time.Time `json:"not_after,omitempty"`
	RenewAt   *time.Time `json:"renew_at,omitempty"` // when a third of its lifetime is left

	// LastRenewal is when a certificate was last obtained from the CA
	// by this process; FromCache says the one served came from the cache.
	LastRenewal *time.Time `json:"last_renewal,omitempty"`
	FromCache   bool       `json:"from_cache,omitempty"`

	// LastError is the last failed attempt's error, cleared by a success.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	Failures    int        `json:"failures,omitempty"` // failed attempts in a row

	// NextAttempt is when the Manager next asks the CA for a certificate.
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
}

// state is what Status reports beyond the certificate itself.
type state struct {
	lastRenewal time.Time
	fromCache   bool
	lastErr     error
	lastErrAt   time.Time
	failures    int
	next        time.Time
}

// Status reports the certificate being served and the last attempt to
// renew it.
func (m *Manager) Status() Status {
	m.mu.Lock()
	st := m.state
	m.mu.Unlock()
	s := Status{Hosts: m.Hosts, Directory: m.directory(), FromCache: st.fromCache, Failures: st.failures}
	if c := m.cert.Load(); c != nil {
		l := c.Leaf
		s.Serving = true
		s.Valid = m.clock().Before(l.NotAfter)
		s.Issuer = l.Issuer.CommonName
		s.Serial = l.SerialNumber.Text(16)
		s.NotBefore, s.NotAfter = ptr(l.NotBefore.UTC()), ptr(l.NotAfter.UTC())
		s.RenewAt = ptr(renewAt(l.NotBefore, l.NotAfter).UTC())
	}
	if !st.lastRenewal.IsZero() {
		s.LastRenewal = ptr(st.lastRenewal.UTC())
	}
	if st.lastErr != nil {
		s.LastError = st.lastErr.Error()
		s.LastErrorAt = ptr(st.lastErrAt.UTC())
	}
	if !st.next.IsZero() {
		s.NextAttempt = ptr(st.next.UTC())
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// setCert starts serving c.
func (m *Manager) setCert(c *tls.Certificate, fromCache bool) {
	m.cert.Store(c)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state.fromCache = fromCache
	if !fromCache {
		m.state.lastRenewal = m.clock()
		m.state.lastErr, m.state.failures = nil, 0
	}
}

func (m *Manager) recordError(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state.lastErr, m.state.lastErrAt = err, m.clock()
	m.state.failures++
}

func (m *Manager) lastErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.lastErr
}

func (m *Manager) setNext(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state.next = t
}
