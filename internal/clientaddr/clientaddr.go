// Package clientaddr finds the address of the client behind an HTTP
// request: the peer's, or, when the peer is a trusted reverse proxy, the
// one the proxies forwarded in X-Forwarded-For.
//
// The limits, the access log and the metrics all name a client by the
// address Resolver.Handler puts in the request's context (From).
package clientaddr

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds a request's client address. Its zero value trusts no
// proxy: the client is the peer.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that believes X-Forwarded-For from peers in
// trusted, and only from them.
func New(trusted []netip.Prefix) *Resolver {
	r := &Resolver{}
	for _, p := range trusted {
		r.trusted = append(r.trusted, p.Masked())
	}
	return r
}

// Trusted reports whether a is one of the trusted proxies.
func (r *Resolver) Trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Addr returns req's client address: the peer (RemoteAddr) unless it is a
// trusted proxy; then the X-Forwarded-For entries are read from the right
// (the hop nearest to us) and the first one that is not a trusted proxy
// is the client. An entry that does not parse ends the walk at the last
// address known good. The zero Addr when RemoteAddr holds none.
func (r *Resolver) Addr(req *http.Request) netip.Addr {
	peer := parseHost(req.RemoteAddr)
	if !peer.IsValid() || !r.Trusted(peer) {
		return peer
	}
	hops := req.Header.Values("X-Forwarded-For")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		list := hops[i]
		for list != "" {
			var entry string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				entry, list = list[j+1:], list[:j]
			} else {
				entry, list = list, ""
			}
			a := parseHost(strings.TrimSpace(entry))
			if !a.IsValid() {
				return client
			}
			client = a
			if !r.Trusted(a) {
				return a
			}
		}
	}
	return client
}

// parseHost reads an IP address, with or without a port ("192.0.2.1",
// "192.0.2.1:80", "[2001:db8::1]:80", "2001:db8::1").
func parseHost(s string) netip.Addr {
	// An address with a port, as RemoteAddr always is, in one parse.
	// Not with a zone: ParseAddrPort takes brackets in one ("[::%]]:1")
	// that SplitHostPort refuses.
	if !strings.Contains(s, "%") {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap()
		}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap()
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

type contextKey struct{}

// addrContext is a context with a client's address: what
// context.WithValue makes, in one allocation instead of two (its node,
// and the address boxed in an interface). Its Value of contextKey is a
// pointer to the address, which an interface holds without boxing.
type addrContext struct {
	context.Context
	addr netip.Addr
}

func (c *addrContext) Value(key any) any {
	if _, ok := key.(contextKey); ok {
		return &c.addr
	}
	return c.Context.Value(key)
}

// Handler puts each request's client address in its context, for From,
// and calls next. On a server whose ConnContext is r's, a request from a
// peer that is not a trusted proxy already has it there: the peer.
func (r *Resolver) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		if p, ok := ctx.Value(peerKey{}).(*peerContext); ok && p.r == r && p.direct && p.remote == req.RemoteAddr &&
			ctx.Value(contextKey{}) == any(&p.addr) {
			next.ServeHTTP(w, req)
			return
		}
		next.ServeHTTP(w, req.WithContext(&addrContext{ctx, r.Addr(req)}))
	})
}

type peerKey struct{}

// peerContext is a connection's context with its peer's address, from
// ConnContext.
type peerContext struct {
	addrContext
	r      *Resolver
	remote string // the RemoteAddr of the connection's requests
	direct bool   // the peer is not a trusted proxy: every request's client
}

func (c *peerContext) Value(key any) any {
	if _, ok := key.(peerKey); ok {
		return c
	}
	return c.addrContext.Value(key)
}

// ConnContext is an http.Server's ConnContext for a server whose handler
// is behind r's Handler: it puts the peer's address in the connection's
// context, where Handler finds it for each request from a peer that is
// not a trusted proxy instead of copying the request to put it in its
// context (From reads the same address either way).
func (r *Resolver) ConnContext(ctx context.Context, c net.Conn) context.Context {
	ra := c.RemoteAddr()
	if ra == nil {
		return ctx
	}
	remote := ra.String() // as net/http sets each request's RemoteAddr
	peer := parseHost(remote)
	return &peerContext{addrContext: addrContext{ctx, peer}, r: r, remote: remote, direct: peer.IsValid() && !r.Trusted(peer)}
}

// From returns the client address Handler stored in ctx (the zero Addr
// when there is none).
func From(ctx context.Context) netip.Addr {
	if a, ok := ctx.Value(contextKey{}).(*netip.Addr); ok {
		return *a
	}
	return netip.Addr{}
}
