package ratelimit

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
)

// Handler returns next behind l: each request that applies selects (every
// request when nil) spends a token of the client addr names; a client
// without one gets 429 Too Many Requests with Retry-After (whole seconds),
// and next never sees the request.
func (l *Limiter) Handler(next http.Handler, addr func(*http.Request) netip.Addr, applies func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if applies != nil && !applies(r) {
			next.ServeHTTP(w, r)
			return
		}
		ok, wait := l.Allow(addr(r))
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		if l.onReject != nil {
			l.onReject()
		}
		secs := int(math.Ceil(wait.Seconds()))
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, "too many requests from your address (%s allowed): try again in %d s\n", l.rate, secs)
	})
}
