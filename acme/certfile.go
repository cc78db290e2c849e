package acme

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// encodeCert returns the cache file of a certificate: its private key, then
// its chain, leaf first, in PEM.
func encodeCert(key crypto.Signer, chain [][]byte) ([]byte, error) {
	out, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	for _, der := range chain {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out, nil
}

// decodeCert parses a cache file written by encodeCert.
func decodeCert(data []byte) (*tls.Certificate, error) {
	key, rest, err := decodeKey(data)
	if err != nil {
		return nil, err
	}
	var chain [][]byte
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			chain = append(chain, b.Bytes)
		}
	}
	return newTLSCert(key, chain)
}

// newTLSCert checks that chain's leaf belongs to key and returns them as a
// tls.Certificate with Leaf set.
func newTLSCert(key crypto.Signer, chain [][]byte) (*tls.Certificate, error) {
	if len(chain) == 0 {
		return nil, errors.New("no certificate")
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	if !samePublicKey(key.Public(), leaf.PublicKey) {
		return nil, errors.New("the certificate is not for this private key")
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

// checkLeaf reports why leaf cannot be served for hosts at now, or nil.
func checkLeaf(leaf *x509.Certificate, hosts []string, now time.Time) error {
	for _, h := range hosts {
		if err := leaf.VerifyHostname(h); err != nil {
			return fmt.Errorf("not valid for %s", h)
		}
	}
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// renewAt returns when a certificate valid from notBefore to notAfter is
// due for renewal: when a third of its lifetime is left.
func renewAt(notBefore, notAfter time.Time) time.Time {
	return notAfter.Add(-notAfter.Sub(notBefore) / 3)
}
