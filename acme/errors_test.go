package acme

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	xacme "golang.org/x/crypto/acme"
)

func TestCAError(t *testing.T) {
	const url = "https://ca.example/dir"
	limited := &xacme.Error{StatusCode: 429, ProblemType: "urn:ietf:params:acme:error:rateLimited",
		Detail: "too many certificates already issued", Header: http.Header{"Retry-After": {"3600"}}}
	tests := []struct {
		name  string
		err   error
		want  error
		text  []string
		after time.Duration
	}{
		{"rate limit", limited, ErrRateLimited, []string{"rateLimited: too many certificates already issued", "HTTP 429"}, time.Hour},
		{"refusal", &xacme.Error{StatusCode: 400, ProblemType: "urn:ietf:params:acme:error:rejectedIdentifier", Detail: "forbidden name",
			Subproblems: []xacme.Subproblem{{Type: "urn:ietf:params:acme:error:malformed", Detail: "bad label", Identifier: &xacme.AuthzID{Value: "x.example"}}}},
			ErrCARefused, []string{"rejectedIdentifier: forbidden name", "x.example: malformed: bad label"}, 0},
		{"order", &xacme.OrderError{Status: "invalid", Problem: &xacme.Error{ProblemType: "urn:ietf:params:acme:error:badCSR", Detail: "key too small"}},
			ErrCARefused, []string{"to place the order: the order is invalid", "badCSR: key too small"}, 0},
		{"network", fmt.Errorf("dial tcp: connection refused"), ErrCAUnreachable, []string{url, "connection refused"}, 0},
		{"timeout", context.DeadlineExceeded, ErrCAUnreachable, []string{"no answer in time"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := caError("place the order", url, tt.err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("%v: want %v", err, tt.want)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q lacks %q", err, s)
				}
			}
			if after, _ := retryAfter(err); after != tt.after {
				t.Errorf("retry after %s, want %s", after, tt.after)
			}
		})
	}
	if caError("x", url, context.Canceled) != context.Canceled {
		t.Error("cancellation is not a CA error")
	}
}

func TestAuthzError(t *testing.T) {
	err := authzError(HTTP01, "paste.example.org", &xacme.AuthorizationError{Errors: []error{
		&xacme.Error{StatusCode: 400, ProblemType: "urn:ietf:params:acme:error:connection", Detail: "Timeout during connect (likely firewall problem)"},
	}})
	want := "the CA rejected the challenge: http-01 for paste.example.org: connection: Timeout during connect (likely firewall problem) (HTTP 400)"
	if !errors.Is(err, ErrChallengeFailed) || !strings.Contains(err.Error(), want) {
		t.Fatalf("%v\nwant %s", err, want)
	}
}
