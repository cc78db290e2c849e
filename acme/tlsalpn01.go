package acme

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"
)

// alpnProto is the ALPN protocol of tls-alpn-01 validation (RFC 8737).
const alpnProto = "acme-tls/1"

// idPeACMEIdentifier is the certificate extension that carries the digest
// of the key authorization (RFC 8737, section 3).
var idPeACMEIdentifier = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 31}

// TLSALPN01Solver answers tls-alpn-01 challenges: the CA connects to
// DOMAIN:443 offering only the ALPN protocol acme-tls/1, and
// Manager.GetCertificate answers with a self-signed certificate that
// carries the key authorization. The TLS listener must use
// Manager.TLSConfig (or list acme-tls/1 in NextProtos). Its zero value is
// ready to use.
type TLSALPN01Solver struct {
	mu    sync.Mutex
	certs map[string]*tls.Certificate // lower-case domain -> challenge certificate
}

// Type returns TLSALPN01.
func (s *TLSALPN01Solver) Type() string { return TLSALPN01 }

// Present makes the challenge certificate for ch.
func (s *TLSALPN01Solver) Present(ctx context.Context, ch Challenge) error {
	c, err := alpnCert(ch)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.certs == nil {
		s.certs = make(map[string]*tls.Certificate)
	}
	s.certs[strings.ToLower(ch.Domain)] = c
	return nil
}

// CleanUp forgets ch's certificate.
func (s *TLSALPN01Solver) CleanUp(ctx context.Context, ch Challenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.certs, strings.ToLower(ch.Domain))
	return nil
}

// cert returns the challenge certificate for domain, if one is pending.
func (s *TLSALPN01Solver) cert(domain string) (*tls.Certificate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[strings.ToLower(domain)]
	return c, ok
}

// alpnCert makes the self-signed certificate of a tls-alpn-01 challenge.
func alpnCert(ch Challenge) (*tls.Certificate, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(ch.KeyAuth))
	ext, err := asn1.Marshal(sum[:])
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		Subject:         pkix.Name{CommonName: "ACME challenge"},
		NotBefore:       now.Add(-time.Hour),
		NotAfter:        now.Add(24 * time.Hour),
		DNSNames:        []string{ch.Domain},
		ExtraExtensions: []pkix.Extension{{Id: idPeACMEIdentifier, Critical: true, Value: ext}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("acme: tls-alpn-01 certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// isALPNChallenge reports whether hello is a CA's tls-alpn-01 validation:
// it offers acme-tls/1 and nothing else.
func isALPNChallenge(hello *tls.ClientHelloInfo) bool {
	return len(hello.SupportedProtos) == 1 && slices.Contains(hello.SupportedProtos, alpnProto)
}
