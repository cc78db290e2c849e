package acme

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
)

// Challenge types, as ACME names them.
const (
	HTTP01    = "http-01"
	TLSALPN01 = "tls-alpn-01"
	DNS01     = "dns-01"
)

// A Challenge is one proof of control the CA asks for: that the server
// controls Domain, shown with the key authorization of Token.
type Challenge struct {
	Type    string // HTTP01, TLSALPN01 or DNS01
	Domain  string // the host name being validated, e.g. "paste.example.org"
	Token   string // the CA's token
	KeyAuth string // the key authorization: Token "." the account key's thumbprint
}

// HTTPPath is the URL path at which an http-01 challenge is answered with
// KeyAuth.
func (c Challenge) HTTPPath() string { return "/.well-known/acme-challenge/" + c.Token }

// DNSName is the fully qualified name of a dns-01 challenge's TXT record.
func (c Challenge) DNSName() string { return "_acme-challenge." + c.Domain + "." }

// DNSValue is the content of a dns-01 challenge's TXT record.
func (c Challenge) DNSValue() string {
	sum := sha256.Sum256([]byte(c.KeyAuth))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// A Solver makes a server answer one type of challenge. The Manager calls
// Present before telling the CA to validate, and CleanUp once the CA is done
// (successful or not), for each challenge. Implementations must be safe for
// concurrent use.
type Solver interface {
	// Type is the challenge type the Solver answers (HTTP01, ...).
	Type() string

	// Present makes ch answerable, and returns once the CA may check it.
	// Its error says what the operator must fix.
	Present(ctx context.Context, ch Challenge) error

	// CleanUp removes what Present made for ch.
	CleanUp(ctx context.Context, ch Challenge) error
}
