package clientaddr

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestAddr(t *testing.T) {
	r := New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("2001:db8::1/128")})
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"no proxy", "192.0.2.7:1234", nil, "192.0.2.7"},
		{"untrusted peer's header is ignored", "192.0.2.7:1234", []string{"198.51.100.1"}, "192.0.2.7"},
		{"trusted peer", "10.0.0.5:1234", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted peer without header", "10.0.0.5:1234", nil, "10.0.0.5"},
		{"spoofed left entries", "10.0.0.5:1234", []string{"203.0.113.9, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.5:1234", []string{"198.51.100.1, 10.0.0.6", "10.0.0.7"}, "198.51.100.1"},
		{"all trusted", "10.0.0.5:1234", []string{"10.0.0.6"}, "10.0.0.6"},
		{"garbage stops the walk", "10.0.0.5:1234", []string{"198.51.100.1, nonsense, 10.0.0.6"}, "10.0.0.6"},
		{"entry with a port", "10.0.0.5:1234", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"v6 peer", "[2001:db8::1]:80", []string{"2001:db8::99"}, "2001:db8::99"},
		{"v6 bracketed entry", "[2001:db8::1]:80", []string{"[2001:db8::99]:443"}, "2001:db8::99"},
		{"v4-mapped peer", "[::ffff:10.0.0.5]:80", []string{"198.51.100.1"}, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := r.Addr(req); got.String() != tt.want {
				t.Fatalf("Addr = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	var got netip.Addr
	h := New(nil).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = From(r.Context()) }))
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "192.0.2.7:1234"
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != netip.MustParseAddr("192.0.2.7") {
		t.Fatalf("From = %s", got)
	}
	if a := From(req.Context()); a.IsValid() {
		t.Fatalf("From without Handler = %s", a)
	}
}

// FuzzAddr feeds RemoteAddr and X-Forwarded-For that clients and proxies
// send; the answer is always the peer or an address from the header.
func FuzzAddr(f *testing.F) {
	f.Add("10.0.0.5:1", "198.51.100.1, 10.0.0.6")
	f.Add("10.0.0.5:1", ",,,")
	f.Add("[::ffff:10.0.0.5]:1", "[fe80::1%eth0]:80, 1.2.3.4:5")
	f.Add("192.0.2.1:1", "x")
	r := New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fe80::/10")})
	f.Fuzz(func(t *testing.T, remote, xff string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", xff)
		a := r.Addr(req)
		if a.IsValid() && a != parseHost(remote) && !r.Trusted(parseHost(remote)) {
			t.Fatalf("untrusted peer %q gave %s", remote, a)
		}
		if a.Zone() != "" || a.Is4In6() {
			t.Fatalf("address %s keeps a zone or a v4 mapping", a)
		}
	})
}

// FuzzParseHost: parseHost reads any string as it did before its
// shortcut for an address with a port.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "192.0.2.1:80", "192.0.2.1:99999", "[2001:db8::1]:80", "2001:db8::1",
		"::1:80", "[::ffff:192.0.2.1]:80", "[192.0.2.1]:80", "[fe80::1%eth0]:80", "fe80::1%eth0", "::ffff:1.2.3.4", "x:1", ":80", ""} {
		f.Add(s)
	}
	slow := func(s string) netip.Addr {
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
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := parseHost(s), slow(s); got != want {
			t.Fatalf("parseHost(%q) = %v, want %v", s, got, want)
		}
	})
}

// TestConnContext: on a server with the Resolver's ConnContext, From
// reads the peer for a direct client and X-Forwarded-For behind a trusted
// proxy, as without it; a request passes through Handler as it came only
// in the first case.
func TestConnContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		xff     string
		want    string
		same    bool // the request reaches next as Handler got it
	}{
		{"direct", nil, "198.51.100.1", "127.0.0.1", true},
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "198.51.100.1", "198.51.100.1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(tc.trusted)
			type seen struct {
				addr netip.Addr
				same bool
			}
			got := make(chan seen, 2)
			var outer *http.Request
			inner := r.Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				got <- seen{From(req.Context()), req == outer}
			}))
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				outer = req
				inner.ServeHTTP(w, req)
			}))
			srv.Config.ConnContext = r.ConnContext
			srv.Start()
			defer srv.Close()
			for range 2 { // two requests on one connection
				req, _ := http.NewRequest("GET", srv.URL, nil)
				req.Header.Set("X-Forwarded-For", tc.xff)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if s := <-got; s.addr.String() != tc.want || s.same != tc.same {
					t.Fatalf("From = %s, request passed as it came: %v; want %s, %v", s.addr, s.same, tc.want, tc.same)
				}
			}
		})
	}
	// A connection context of another Resolver is not taken for this
	// one's, nor one for another peer.
	direct := New(nil)
	ctx := direct.ConnContext(context.Background(), peerConn{addr: "192.0.2.7:1"})
	proxied := New([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})
	for _, tc := range []struct {
		r      *Resolver
		remote string
		want   string
	}{
		{direct, "192.0.2.7:1", "192.0.2.7"},
		{proxied, "192.0.2.7:1", "198.51.100.1"},
		{direct, "192.0.2.8:1", "192.0.2.8"},
	} {
		var got netip.Addr
		req := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		req.RemoteAddr = tc.remote
		req.Header.Set("X-Forwarded-For", "198.51.100.1")
		tc.r.Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { got = From(req.Context()) })).ServeHTTP(httptest.NewRecorder(), req)
		if got.String() != tc.want {
			t.Errorf("From = %s, want %s", got, tc.want)
		}
	}
}

// peerConn is a connection that only knows its peer's address.
type peerConn struct {
	net.Conn
	addr string
}

func (c peerConn) RemoteAddr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(c.addr))
}

// TestConnContextKeepAlive: over one keep-alive connection, on IPv4 and
// IPv6 loopback, a peer that is no trusted proxy is the client whatever
// headers each request carries, and a trusted proxy's header is read
// anew for each request (one connection from a proxy carries many
// clients).
func TestConnContextKeepAlive(t *testing.T) {
	for _, network := range []struct{ listen, peer string }{{"127.0.0.1:0", "127.0.0.1"}, {"[::1]:0", "::1"}} {
		ln, err := net.Listen("tcp", network.listen)
		if err != nil {
			t.Logf("%s: %v", network.listen, err)
			continue
		}
		peer := netip.MustParseAddr(network.peer)
		for _, tc := range []struct {
			name    string
			trusted netip.Prefix
			xff     []string
			want    []string
		}{
			{"direct", netip.MustParsePrefix("198.51.100.0/24"), []string{"198.51.100.1", "203.0.113.2", "", "[2001:db8::1]:1"},
				[]string{network.peer, network.peer, network.peer, network.peer}},
			{"proxy", netip.PrefixFrom(peer, peer.BitLen()), []string{"198.51.100.1", "203.0.113.2", "", "[2001:db8::1]:1", "fe80::1%eth0"},
				[]string{"198.51.100.1", "203.0.113.2", network.peer, "2001:db8::1", "fe80::1"}},
		} {
			t.Run(network.peer+"/"+tc.name, func(t *testing.T) {
				r := New([]netip.Prefix{tc.trusted})
				got := make(chan netip.Addr, 1)
				var conns atomic.Int32
				srv := &httptest.Server{
					Listener: ln,
					Config: &http.Server{
						Handler: r.Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
							got <- From(req.Context())
						})),
						ConnContext: r.ConnContext,
						ConnState: func(_ net.Conn, s http.ConnState) {
							if s == http.StateNew {
								conns.Add(1)
							}
						},
					},
				}
				srv.Start()
				defer srv.Close()
				for i, xff := range tc.xff {
					req, _ := http.NewRequest("GET", srv.URL, nil)
					if xff != "" {
						req.Header.Set("X-Forwarded-For", xff)
						req.Header.Set("Forwarded", "for="+xff)
					}
					resp, err := srv.Client().Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if a := <-got; a.String() != tc.want[i] {
						t.Errorf("request %d (X-Forwarded-For %q): From = %s, want %s", i, xff, a, tc.want[i])
					}
				}
				if n := conns.Load(); n != 1 {
					t.Fatalf("%d connections, want 1", n)
				}
			})
			ln, err = net.Listen("tcp", network.listen)
			if err != nil {
				t.Fatal(err)
			}
		}
		ln.Close()
	}
}

// FuzzConnContext: for any peer, trusted proxies and X-Forwarded-For,
// Handler on a connection whose context ConnContext made finds the
// client Addr reads from the request alone.
func FuzzConnContext(f *testing.F) {
	for _, s := range [][3]string{
		{"192.0.2.7:1", "", "198.51.100.1"},
		{"192.0.2.7:1", "192.0.2.0/24", "198.51.100.1, 192.0.2.8"},
		{"[2001:db8::1]:80", "2001:db8::/64", "[2001:db8::99]:443"},
		{"[fe80::1%eth0]:80", "fe80::/10", "203.0.113.5"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7/32", "nonsense, 198.51.100.1"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, peer, trusted, xff string) {
		ap, err := netip.ParseAddrPort(peer)
		if err != nil {
			return
		}
		var prefixes []netip.Prefix
		if p, err := netip.ParsePrefix(trusted); err == nil {
			prefixes = append(prefixes, p)
		}
		r := New(prefixes)
		c := tcpPeer{&net.TCPAddr{IP: ap.Addr().AsSlice(), Port: int(ap.Port()), Zone: ap.Addr().Zone()}}
		ctx := r.ConnContext(context.Background(), c)
		req := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		req.RemoteAddr = c.RemoteAddr().String() // as net/http sets it
		req.Header.Set("X-Forwarded-For", xff)
		var got netip.Addr
		r.Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { got = From(req.Context()) })).ServeHTTP(httptest.NewRecorder(), req)
		if want := r.Addr(req); got != want {
			t.Fatalf("peer %s, trusted %q, X-Forwarded-For %q: From = %v, Addr = %v", req.RemoteAddr, trusted, xff, got, want)
		}
	})
}

// tcpPeer is a connection that only knows its peer's address.
type tcpPeer struct{ addr *net.TCPAddr }

func (tcpPeer) Read([]byte) (int, error)         { return 0, nil }
func (tcpPeer) Write(b []byte) (int, error)      { return len(b), nil }
func (tcpPeer) Close() error                     { return nil }
func (tcpPeer) LocalAddr() net.Addr              { return nil }
func (c tcpPeer) RemoteAddr() net.Addr           { return c.addr }
func (tcpPeer) SetDeadline(time.Time) error      { return nil }
func (tcpPeer) SetReadDeadline(time.Time) error  { return nil }
func (tcpPeer) SetWriteDeadline(time.Time) error { return nil }
