package netstack

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// dhcpServer is a DHCP server for tests, on a Stack: it leases
// 10.0.0.50/24 with the Stack's address as gateway, DNS server and server
// identifier, for lease (renewal after a second, rebinding after two).
type dhcpServer struct {
	conn     *gonet.UDPConn
	self     net.IP
	lease    time.Duration
	silent   atomic.Bool  // drop every request
	requests atomic.Int64 // DHCPREQUESTs answered
}

// startDHCPServer serves on s's port 67 until the test ends.
func startDHCPServer(t *testing.T, s *Stack, lease time.Duration) *dhcpServer {
	t.Helper()
	var wq waiter.Queue
	ep, terr := s.stack.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		t.Fatal(terr)
	}
	ep.SocketOptions().SetBroadcast(true)
	if terr := ep.Bind(tcpip.FullAddress{NIC: nicID, Port: dhcpServerPort}); terr != nil {
		t.Fatal(terr)
	}
	srv := &dhcpServer{conn: gonet.NewUDPConn(&wq, ep), self: s.cfg.Addr.Addr().AsSlice(), lease: lease}
	t.Cleanup(func() { srv.conn.Close() })
	go srv.serve()
	return srv
}

func (d *dhcpServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, _, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		req, err := dhcpv4.FromBytes(buf[:n])
		if err != nil || d.silent.Load() {
			continue
		}
		typ := dhcpv4.MessageTypeOffer
		if req.MessageType() == dhcpv4.MessageTypeRequest {
			typ = dhcpv4.MessageTypeAck
			d.requests.Add(1)
		} else if req.MessageType() != dhcpv4.MessageTypeDiscover {
			continue
		}
		reply, err := dhcpv4.NewReplyFromRequest(req,
			dhcpv4.WithMessageType(typ),
			dhcpv4.WithYourIP(net.IPv4(10, 0, 0, 50)),
			dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
			dhcpv4.WithRouter(d.self),
			dhcpv4.WithDNS(d.self),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(d.self)),
			dhcpv4.WithLeaseTime(uint32(d.lease/time.Second)),
			dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(time.Second)),
			dhcpv4.WithOption(dhcpv4.OptRebindingTimeValue(2*time.Second)),
		)
		if err != nil {
			continue
		}
		to := &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpClientPort}
		if !req.ClientIPAddr.IsUnspecified() && !req.IsBroadcast() {
			to.IP = req.ClientIPAddr
		}
		d.conn.WriteTo(reply.ToBytes(), to)
	}
}

// waitFor polls cond until it holds or the test's timeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDHCP leases an address, renews it, loses it when the server goes
// quiet, and gets it back.
func TestDHCP(t *testing.T) {
	la, lb := framePipe(false)
	a, err := New(la, Config{Addr: netip.PrefixFrom(addrA, 24)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := startDHCPServer(t, a, minLease)
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x50}
	b, err := New(lb, Config{DHCP: true, MAC: mac, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.WaitAddresses(ctx); err != nil {
		t.Fatal(err)
	}
	leased := netip.MustParseAddr("10.0.0.50")
	if got := b.Addrs(); !slices.Equal(got, []netip.Addr{leased}) {
		t.Fatalf("addresses %v after the lease, want [%v]", got, leased)
	}
	if got := b.dnsServers(); !slices.Equal(got, []netip.Addr{addrA}) {
		t.Errorf("DNS servers %v, want the lease's [%v]", got, addrA)
	}
	// Through the leased address and the leased gateway's subnet.
	ln, err := a.Listen("tcp", ":4343")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveRemote(ln)
	if got := remoteSeen(t, b, "tcp", "10.0.0.1:4343"); got[:10] != "10.0.0.50:" {
		t.Errorf("the server saw %q, want 10.0.0.50:PORT", got)
	}

	// The lease is renewed after a second.
	first := srv.requests.Load()
	waitFor(t, "a renewal", func() bool { return srv.requests.Load() > first })

	// The server goes quiet: the lease runs out, its address goes.
	srv.silent.Store(true)
	waitFor(t, "the lease to be lost", func() bool { return len(b.Addrs()) == 0 })
	// It comes back: so does the lease.
	srv.silent.Store(false)
	waitFor(t, "a new lease", func() bool { return slices.Equal(b.Addrs(), []netip.Addr{leased}) })
}

// testLogger logs to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestCloseStopsDHCP: Close ends the DHCP client with the rest.
func TestCloseStopsDHCP(t *testing.T) {
	exerciseDHCP(t) // warm up, as in TestCloseStopsEverything
	before := runtime.NumGoroutine()
	exerciseDHCP(t)
	waitFor(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// exerciseDHCP starts a DHCP server and a client, waits for the lease and
// closes both.
func exerciseDHCP(t *testing.T) {
	t.Helper()
	la, lb := framePipe(false)
	a, err := New(la, Config{Addr: netip.PrefixFrom(addrA, 24)})
	if err != nil {
		t.Fatal(err)
	}
	startDHCPServer(t, a, time.Hour)
	b, err := New(lb, Config{DHCP: true, AcceptRA: true, MAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x51}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a lease", func() bool { return len(b.Addrs()) > 0 })
	b.Close()
	a.Close()
}
