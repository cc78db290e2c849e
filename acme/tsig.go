package acme

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// A TSIGKey signs DNS updates (RFC 8945), as BIND's `tsig-keygen NAME`
// prints it.
type TSIGKey struct {
	Name      string // the key's name, e.g. "pasteur." (made fully qualified)
	Algorithm string // "hmac-sha256.", "hmac-sha384." or "hmac-sha512."
	Secret    string // base64
}

// ParseTSIGKey parses NAME:ALG:SECRET, where ALG is hmac-sha256,
// hmac-sha384 or hmac-sha512 (the "hmac-" prefix and case are optional)
// and SECRET is the base64 secret. Weaker algorithms (hmac-md5,
// hmac-sha1, hmac-sha224) are refused.
func ParseTSIGKey(s string) (TSIGKey, error) {
	name, rest, ok1 := strings.Cut(s, ":")
	alg, secret, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || name == "" || alg == "" || secret == "" {
		return TSIGKey{}, errors.New("want NAME:ALGORITHM:SECRET, e.g. pasteur:hmac-sha256:<base64 secret from tsig-keygen>")
	}
	k := TSIGKey{Name: dns.CanonicalName(name), Secret: secret}
	switch a := strings.TrimPrefix(strings.ToLower(strings.TrimSuffix(alg, ".")), "hmac-"); a {
	case "sha256":
		k.Algorithm = dns.HmacSHA256
	case "sha384":
		k.Algorithm = dns.HmacSHA384
	case "sha512":
		k.Algorithm = dns.HmacSHA512
	case "md5", "sha1", "sha224":
		return TSIGKey{}, fmt.Errorf("algorithm %s is too weak; use hmac-sha256 (tsig-keygen -a hmac-sha256)", alg)
	default:
		return TSIGKey{}, fmt.Errorf("unknown algorithm %q; want hmac-sha256, hmac-sha384 or hmac-sha512", alg)
	}
	raw, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return TSIGKey{}, fmt.Errorf("the secret is not base64: %v", err)
	}
	if len(raw) < 16 {
		return TSIGKey{}, fmt.Errorf("the secret is %d bytes; want at least 16", len(raw))
	}
	return k, nil
}

// String names the key and its algorithm, never its secret.
func (k TSIGKey) String() string {
	return strings.TrimSuffix(k.Name, ".") + " (" + strings.TrimSuffix(k.Algorithm, ".") + ")"
}

// tsigError explains a TSIG error code from a server's answer.
func tsigError(code uint16) string {
	switch code {
	case dns.RcodeBadSig:
		return "BADSIG: the secret or algorithm does not match the server's key"
	case dns.RcodeBadKey:
		return "BADKEY: the server knows no key of this name and algorithm"
	case dns.RcodeBadTime:
		return "BADTIME: the clocks of this machine and the server differ"
	default:
		if s, ok := dns.RcodeToString[int(code)]; ok {
			return s
		}
		return fmt.Sprintf("TSIG error %d", code)
	}
}
