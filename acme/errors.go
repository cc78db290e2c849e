package acme

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	xacme "golang.org/x/crypto/acme"
)

// Errors a Manager reports, wrapped with what was being done. Test them with
// errors.Is.
var (
	// ErrNoCertificate means no certificate has been obtained yet.
	ErrNoCertificate = errors.New("acme: no certificate yet")

	// ErrCAUnreachable means the CA's directory could not be reached: a
	// network, DNS or TLS failure before the CA answered.
	ErrCAUnreachable = errors.New("acme: cannot reach the CA")

	// ErrCARefused means the CA answered a request with an error; the
	// message shows the CA's problem document.
	ErrCARefused = errors.New("acme: the CA refused the request")

	// ErrRateLimited means the CA refused a request for exceeding a rate
	// limit; the Manager waits at least as long as the CA asks.
	ErrRateLimited = errors.New("acme: rate limited by the CA")

	// ErrChallengeFailed means the CA could not validate a challenge; the
	// message shows the CA's problem document.
	ErrChallengeFailed = errors.New("acme: the CA rejected the challenge")

	// ErrTSIG means the DNS server did not accept the TSIG key that signed
	// an update (unknown key name, wrong secret or algorithm, clock skew).
	ErrTSIG = errors.New("acme: the DNS server rejected the TSIG key")

	// ErrDNSRefused means the DNS server refused an update (rcode REFUSED):
	// its policy does not let the key change that name.
	ErrDNSRefused = errors.New("acme: the DNS server refused the update")

	// ErrDNS means a DNS query or update failed for another reason.
	ErrDNS = errors.New("acme: DNS update failed")
)

// caError classifies an error from the request op (what the Manager was
// doing) to the CA: the CA's problem document when it answered,
// ErrCAUnreachable when it did not.
func (m *Manager) caError(op string, err error) error {
	return caError(op, m.directory(), err)
}

func caError(op, dir string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var pe *xacme.Error
	if errors.As(err, &pe) {
		if after, ok := xacme.RateLimit(pe); ok {
			return &rateLimitError{after: after, err: fmt.Errorf("%w (%s): %s", ErrRateLimited, op, problem(pe))}
		}
		return fmt.Errorf("%w to %s: %s", ErrCARefused, op, problem(pe))
	}
	var oe *xacme.OrderError
	if errors.As(err, &oe) {
		msg := "the order is " + oe.Status
		if oe.Problem != nil {
			msg += ": " + problem(oe.Problem)
		}
		return fmt.Errorf("%w to %s: %s", ErrCARefused, op, msg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w at %s to %s: no answer in time", ErrCAUnreachable, dir, op)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is said already
	}
	return fmt.Errorf("%w at %s to %s: %v", ErrCAUnreachable, dir, op, err)
}

// problem renders a problem document for an operator: its type, detail and
// subproblems, and the HTTP status.
func problem(e *xacme.Error) string {
	var b strings.Builder
	b.WriteString(strings.TrimPrefix(e.ProblemType, "urn:ietf:params:acme:error:"))
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, sp := range e.Subproblems {
		b.WriteString("; ")
		if sp.Identifier != nil {
			b.WriteString(sp.Identifier.Value + ": ")
		}
		b.WriteString(strings.TrimPrefix(sp.Type, "urn:ietf:params:acme:error:") + ": " + sp.Detail)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	return b.String()
}

// authzError describes a failed authorization of the challenge typ, with
// the CA's problem documents.
func authzError(typ, domain string, err error) error {
	var ae *xacme.AuthorizationError
	if !errors.As(err, &ae) {
		return err
	}
	var probs []string
	for _, e := range ae.Errors {
		var pe *xacme.Error
		if errors.As(e, &pe) {
			probs = append(probs, problem(pe))
		} else {
			probs = append(probs, e.Error())
		}
	}
	if len(probs) == 0 {
		probs = []string{"no problem document"}
	}
	return fmt.Errorf("%w: %s for %s: %s", ErrChallengeFailed, typ, domain, strings.Join(probs, "; "))
}

// rateLimitError is a rate limit refusal with the delay the CA asked for.
type rateLimitError struct {
	after time.Duration
	err   error
}

func (e *rateLimitError) Error() string { return e.err.Error() }
func (e *rateLimitError) Unwrap() error { return e.err }

// retryAfter returns the delay a rate-limited CA asked for in err, if any.
func retryAfter(err error) (time.Duration, bool) {
	var rl *rateLimitError
	if errors.As(err, &rl) && rl.after > 0 {
		return rl.after, true
	}
	return 0, false
}
