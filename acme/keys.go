package acme

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// MinSeedLen is the shortest seed KeyFromSeed accepts, in bytes.
const MinSeedLen = 16

// KeyFromSeed derives an ECDSA P-256 private key from a secret seed. The
// same seed and purpose always give the same key, and different purposes
// give unrelated keys, so that a server without state keeps its ACME
// account (purpose "account") or its certificate key ("certificate").
// The seed must be at least MinSeedLen bytes and as secret as the key;
// `openssl rand -base64 32` makes a good one.
func KeyFromSeed(seed []byte, purpose string) (*ecdsa.PrivateKey, error) {
	if len(seed) < MinSeedLen {
		return nil, fmt.Errorf("acme: seed for the %s key is %d bytes; want at least %d", purpose, len(seed), MinSeedLen)
	}
	// A scalar outside [1, n-1] is rejected by ParseRawPrivateKey; that
	// happens with probability about 2^-32, so a counter in the info
	// string picks the next candidate.
	for i := range 16 {
		info := fmt.Sprintf("pasteur acme %s key %d", purpose, i)
		d, err := hkdf.Key(sha256.New, seed, nil, info, 32)
		if err != nil {
			return nil, fmt.Errorf("acme: derive %s key: %w", purpose, err)
		}
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("acme: derive %s key: no valid scalar", purpose)
}

// newKey generates a fresh ECDSA P-256 key.
func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// encodeKey returns key as a PKCS #8 PEM block.
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("acme: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// decodeKey parses a PEM private key (PKCS #8, SEC 1 or PKCS #1) and
// returns the rest of data.
func decodeKey(data []byte) (crypto.Signer, []byte, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, nil, errors.New("no private key")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, nil, fmt.Errorf("unsupported key type %T", k)
		}
		return s, data, nil
	}
}

// samePublicKey reports whether a and b are the same public key.
func samePublicKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
