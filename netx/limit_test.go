package netx

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// limitBed is a ConnLimiter's listener on loopback whose accepted connections
// arrive on conns.
type limitBed struct {
	t       *testing.T
	ln      *ConnLimiter
	addr    string
	conns   chan net.Conn
	mu      sync.Mutex
	rejects []string
	evicts  int
}

func newLimitBed(t *testing.T, lim Limits) *limitBed {
	t.Helper()
	inner, err := (&Host{}).Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &limitBed{t: t, conns: make(chan net.Conn, 16)}
	lim.OnReject = func(r string) { b.mu.Lock(); b.rejects = append(b.rejects, r); b.mu.Unlock() }
	lim.OnEvict = func() { b.mu.Lock(); b.evicts++; b.mu.Unlock() }
	b.ln = NewConnLimiter(lim)
	ln := b.ln.Listener(inner)
	b.addr = ln.Addr().String()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.conns <- c
		}
	}()
	return b
}

// dial connects from the loopback address from (127.0.0.x) and returns
// the client's end and the server's.
func (b *limitBed) dial(from string) (client, server net.Conn) {
	b.t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp4", b.addr)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { c.Close() })
	select {
	case s := <-b.conns:
		b.t.Cleanup(func() { s.Close() })
		return c, s
	case <-time.After(5 * time.Second):
		b.t.Fatalf("dial from %s: not accepted", from)
	}
	return nil, nil
}

// dialRefused connects from from and expects the server to close the
// connection without handing it over.
func (b *limitBed) dialRefused(from string) {
	b.t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp4", b.addr)
	if err != nil {
		b.t.Fatal(err)
	}
	defer c.Close()
	if !closedByPeer(c) {
		b.t.Fatalf("a connection from %s over the cap stays open", from)
	}
	select {
	case <-b.conns:
		b.t.Fatalf("a connection from %s over the cap was accepted", from)
	default:
	}
}

// closedByPeer reports whether the other end closes c within 5 s.
func closedByPeer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	ne, ok := err.(net.Error)
	return err != nil && !(ok && ne.Timeout())
}

func (b *limitBed) counts() ([]string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.rejects...), b.evicts
}

func TestLimitTotalRefusesWhenNoneIdle(t *testing.T) {
	b := newLimitBed(t, Limits{Max: 2})
	_, s1 := b.dial("127.0.0.1")
	_, s2 := b.dial("127.0.0.2")
	b.ln.SetIdle(s1, false)
	b.ln.SetIdle(s2, false)
	b.dialRefused("127.0.0.3")
	if rej, ev := b.counts(); len(rej) != 1 || rej[0] != RejectTotal || ev != 0 {
		t.Fatalf("rejects %v, evictions %d; want [total] and 0", rej, ev)
	}
	// A closed connection frees its slot.
	s1.Close()
	if n := b.ln.Open(); n != 1 {
		t.Fatalf("%d open after a close, want 1", n)
	}
	b.dial("127.0.0.3")
}

func TestLimitTotalClosesLongestIdle(t *testing.T) {
	b := newLimitBed(t, Limits{Max: 2})
	c1, s1 := b.dial("127.0.0.1")
	c2, s2 := b.dial("127.0.0.2")
	b.ln.SetIdle(s1, false)
	b.ln.SetIdle(s2, false)
	b.ln.SetIdle(s2, true) // idle since now
	b.ln.SetIdle(s1, true) // idle since later
	b.dial("127.0.0.3")
	if !closedByPeer(c2) {
		t.Fatal("the connection idle longest was not closed")
	}
	c1.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := c1.Read(make([]byte, 1)); err == nil || !err.(net.Error).Timeout() {
		t.Fatalf("the other idle connection was closed too: %v", err)
	}
	if rej, ev := b.counts(); len(rej) != 0 || ev != 1 {
		t.Fatalf("rejects %v, evictions %d; want none and 1", rej, ev)
	}
	if n := b.ln.Open(); n != 2 {
		t.Fatalf("%d open, want 2", n)
	}
}

func TestLimitPerClient(t *testing.T) {
	b := newLimitBed(t, Limits{Max: 10, PerClient: 2,
		Exempt: func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.9") }})
	_, s1 := b.dial("127.0.0.1")
	c2, s2 := b.dial("127.0.0.1")
	b.ln.SetIdle(s1, false)
	b.ln.SetIdle(s2, false)
	b.dialRefused("127.0.0.1")
	b.dial("127.0.0.2") // another client is not counted against the first
	// An idle connection of the same client makes room.
	b.ln.SetIdle(s2, true)
	b.dial("127.0.0.1")
	if !closedByPeer(c2) {
		t.Fatal("the client's idle connection was not closed")
	}
	for range 3 {
		b.dial("127.0.0.9") // exempt
	}
	if rej, ev := b.counts(); len(rej) != 1 || rej[0] != RejectPerClient || ev != 1 {
		t.Fatalf("rejects %v, evictions %d; want [per_client] and 1", rej, ev)
	}
}

func TestLimitSetIdleThroughTLS(t *testing.T) {
	b := newLimitBed(t, Limits{Max: 1})
	c1, s1 := b.dial("127.0.0.1")
	b.ln.SetIdle(tls.Server(s1, &tls.Config{}), false)
	b.dialRefused("127.0.0.2")
	b.ln.SetIdle(tls.Server(s1, &tls.Config{}), true)
	b.dial("127.0.0.2")
	if !closedByPeer(c1) {
		t.Fatal("the idle connection under a *tls.Conn was not closed")
	}
}

func TestClientPrefix(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	}
	for _, tt := range tests {
		if got := ClientPrefix(netip.MustParseAddr(tt.addr)); got.String() != tt.want {
			t.Errorf("ClientPrefix(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
	if got := ClientPrefix(netip.Addr{}); got.IsValid() {
		t.Errorf("ClientPrefix of the zero Addr = %s, want the zero Prefix", got)
	}
}

func TestLimitSharedByListeners(t *testing.T) {
	l := NewConnLimiter(Limits{Max: 1})
	var addrs []string
	accepted := make(chan net.Conn, 4)
	for range 2 {
		inner, err := (&Host{}).Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln := l.Listener(inner)
		t.Cleanup(func() { ln.Close() })
		addrs = append(addrs, ln.Addr().String())
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
			}
		}()
	}
	c1, err := net.Dial("tcp4", addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	s1 := <-accepted
	defer s1.Close()
	l.SetIdle(s1, false)
	c2, err := net.Dial("tcp4", addrs[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if !closedByPeer(c2) {
		t.Fatal("the second listener took a connection over the shared cap")
	}
	if n := l.Open(); n != 1 {
		t.Fatalf("%d open, want 1", n)
	}
}

// TestLimitConcurrent: connections that come, turn busy and idle, and go
// from many goroutines never pass the cap, and leave nothing counted.
func TestLimitConcurrent(t *testing.T) {
	l := NewConnLimiter(Limits{Max: 5, PerClient: 3})
	inner, err := (&Host{}).Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := l.Listener(inner)
	defer ln.Close()
	var served sync.WaitGroup
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			served.Add(1)
			go func() {
				defer served.Done()
				defer c.Close()
				buf := make([]byte, 1)
				for i := 0; ; i++ {
					l.SetIdle(c, i%2 == 0)
					if n := l.Open(); n > 5 {
						t.Errorf("%d open, over the cap of 5", n)
					}
					c.SetReadDeadline(time.Now().Add(2 * time.Second))
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	var clients sync.WaitGroup
	for i := range 20 {
		clients.Go(func() {
			for range 10 {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%4))}, Timeout: 5 * time.Second}
				c, err := d.Dial("tcp4", ln.Addr().String())
				if err != nil {
					continue
				}
				c.Write([]byte("ab"))
				c.Close()
			}
		})
	}
	clients.Wait()
	ln.Close()
	// The acceptor first: a connection it took just before the close is
	// counted open before its server is added to served.
	<-accepting
	served.Wait()
	if n := l.Open(); n != 0 {
		t.Fatalf("%d counted open after every connection closed", n)
	}
}
