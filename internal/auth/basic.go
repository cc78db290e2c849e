package auth

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Verifier checks a user's password. *File is one.
type Verifier interface {
	// Verify reports whether password is user's; an error (ctx ended)
	// says nothing about the password.
	Verify(ctx context.Context, user, password string) (bool, error)
}

// Basic is HTTP basic authentication (RFC 7617) in front of a handler.
type Basic struct {
	// Users checks the credentials. Required.
	Users Verifier

	// Realm is shown by browsers in their prompt ("pasteur" when empty).
	Realm string

	// Required selects the requests that need a user; nil: all of them.
	// Requests it does not select pass with no user, credentials or not.
	Required func(*http.Request) bool

	// OnFailure, when set, is called for each request refused for wrong
	// or missing credentials.
	OnFailure func(*http.Request)

	// Throttle, when set, is asked before credentials are checked: when
	// it says so (a client that failed too often), the request is
	// answered 429 with Retry-After, and no password is compared.
	Throttle func(*http.Request) (wait time.Duration, refuse bool)
}

// Handler returns next behind b: a request Required selects passes with
// its user in the context (User) when its credentials are right, and is
// answered 401 with WWW-Authenticate otherwise.
func (b *Basic) Handler(next http.Handler) http.Handler {
	realm := b.Realm
	if realm == "" {
		realm = "pasteur"
	}
	challenge := "Basic realm=" + strconv.Quote(realm) + `, charset="UTF-8"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.Required != nil && !b.Required(r) {
			next.ServeHTTP(w, r)
			return
		}
		user, password, ok := r.BasicAuth()
		if ok && b.Throttle != nil {
			if wait, refuse := b.Throttle(r); refuse {
				secs := max(1, int(math.Ceil(wait.Seconds())))
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Header().Set("X-Content-Type-Options", "nosniff")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprintf(w, "too many failed logins from your address: try again in %d s\n", secs)
				return
			}
		}
		if ok {
			valid, err := b.Users.Verify(r.Context(), user, password)
			if err != nil {
				return // the client went away
			}
			if valid {
				next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), user)))
				return
			}
		}
		if b.OnFailure != nil {
			b.OnFailure(r)
		}
		w.Header().Set("WWW-Authenticate", challenge)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		if ok {
			fmt.Fprintln(w, "wrong user name or password")
		} else {
			fmt.Fprintln(w, "this server needs a user name and password for this (HTTP basic authentication; pasteur put --user NAME)")
		}
	})
}
