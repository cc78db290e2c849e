package netstack

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// IPv6 addresses of a dual-stack test pair.
var (
	addrA6 = netip.MustParseAddr("fd00::1")
	addrB6 = netip.MustParseAddr("fd00::3")
)

// newDualPair starts a pair with both families: a at 10.0.0.1/24 and
// fd00::1/64, b at 10.0.0.3/24 and fd00::3/64 with a as both gateways. It
// returns once duplicate address detection has passed.
func newDualPair(t *testing.T) *pair {
	t.Helper()
	la, lb := framePipe(false)
	a, err := New(la, Config{Addr: netip.PrefixFrom(addrA, 24), Addr6: netip.PrefixFrom(addrA6, 64)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := New(lb, Config{Addr: netip.PrefixFrom(addrB, 24), Gateway: addrA,
		Addr6: netip.PrefixFrom(addrB6, 64), Gateway6: addrA6})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, s := range []*Stack{a, b} {
		if err := s.WaitAddresses(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return &pair{a: a, b: b, linkA: la, linkB: lb}
}

// serveRemote accepts connections on ln and writes each its remote
// address, until ln is closed.
func serveRemote(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.WriteString(c, c.RemoteAddr().String())
		c.Close()
	}
}

// remoteSeen dials addr from s and returns what serveRemote wrote.
func remoteSeen(t *testing.T, s *Stack, network, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := s.Dial(ctx, network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDualStack(t *testing.T) {
	p := newDualPair(t)
	if got := p.b.Addrs(); len(got) != 2 || got[0] != addrB || got[1] != addrB6 {
		t.Errorf("b's addresses %v, want [%v %v]", got, addrB, addrB6)
	}
	// One listener on every address takes both families.
	ln, err := p.a.Listen("tcp", ":4343")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveRemote(ln)
	for _, tt := range []struct{ network, addr, wantPrefix string }{
		{"tcp", "10.0.0.1:4343", "10.0.0.3:"},
		{"tcp", "[fd00::1]:4343", "[fd00::3]:"},
		{"tcp6", "[fd00::1]:4343", "[fd00::3]:"},
		{"tcp4", "10.0.0.1:4343", "10.0.0.3:"},
	} {
		if got := remoteSeen(t, p.b, tt.network, tt.addr); !strings.HasPrefix(got, tt.wantPrefix) {
			t.Errorf("dial %s %s: the server saw %q, want %sPORT", tt.network, tt.addr, got, tt.wantPrefix)
		}
	}

	// A tcp6 listener takes IPv6 only; one on an address, that address.
	ln6, err := p.b.Listen("tcp6", ":81")
	if err != nil {
		t.Fatal(err)
	}
	defer ln6.Close()
	go serveRemote(ln6)
	ln4, err := p.b.Listen("tcp", "10.0.0.3:82")
	if err != nil {
		t.Fatal(err)
	}
	defer ln4.Close()
	go serveRemote(ln4)
	if got := remoteSeen(t, p.a, "tcp", "[fd00::3]:81"); !strings.HasPrefix(got, "[fd00::1]:") {
		t.Errorf("tcp6 listener saw %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, addr := range []string{"10.0.0.3:81", "[fd00::3]:82"} {
		if c, err := p.a.Dial(ctx, "tcp", addr); err == nil {
			c.Close()
			t.Errorf("dial %s succeeded", addr)
		}
	}
}

func TestHappyEyeballs(t *testing.T) {
	p := newDualPair(t)
	var queries atomic.Int64
	// An IPv6 socket on :: takes IPv4 too: b asks a at 10.0.0.1.
	dns, err := p.a.listenUDPForTest(53, true)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	go serveDNS(dns, map[string][]netip.Addr{
		"both.test.":   {addrA, addrA6},
		"v6.test.":     {addrA6},
		"v4.test.":     {addrA},
		"broken.test.": {netip.MustParseAddr("fd00::99"), addrA}, // nobody at fd00::99
	}, &queries)
	ln, err := p.a.Listen("tcp", ":4343")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveRemote(ln)
	for _, tt := range []struct{ network, name, wantPrefix string }{
		{"tcp", "both.test", "[fd00::3]:"}, // IPv6 first
		{"tcp4", "both.test", "10.0.0.3:"},
		{"tcp", "v6.test", "[fd00::3]:"},
		{"tcp", "v4.test", "10.0.0.3:"},
		{"tcp", "broken.test", "10.0.0.3:"}, // IPv4 once IPv6 is late
	} {
		if got := remoteSeen(t, p.b, tt.network, tt.name+":4343"); !strings.HasPrefix(got, tt.wantPrefix) {
			t.Errorf("dial %s %s: the server saw %q, want %sPORT", tt.network, tt.name, got, tt.wantPrefix)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if c, err := p.b.Dial(ctx, "tcp6", "v4.test:4343"); err == nil {
		c.Close()
		t.Error("tcp6 dial to a name with only an A record succeeded")
	}
	if queries.Load() == 0 {
		t.Error("no DNS query reached the server")
	}
}

// TestIPv6DNSServer resolves through a DNS server reached over IPv6.
func TestIPv6DNSServer(t *testing.T) {
	la, lb := framePipe(false)
	a, err := New(la, Config{Addr6: netip.PrefixFrom(addrA6, 64)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(lb, Config{Addr6: netip.PrefixFrom(addrB6, 64), Gateway6: addrA6})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, s := range []*Stack{a, b} {
		if err := s.WaitAddresses(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.cfg.MAC.String(); got != "02:00:00:00:00:03" {
		t.Errorf("MAC %s, want 02:00:00:00:00:03 (from fd00::3)", got)
	}
	dns, err := a.listenUDPForTest(53, true)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	var queries atomic.Int64
	go serveDNS(dns, map[string][]netip.Addr{"name.test.": {addrA6}}, &queries)
	ln, err := a.Listen("tcp6", ":4343")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveRemote(ln)
	if got := remoteSeen(t, b, "tcp", "name.test:4343"); got != "[fd00::3]:"+strings.Split(got, "]:")[1] {
		t.Errorf("server saw %q", got)
	}
}
