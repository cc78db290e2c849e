// Package netstack is a userspace TCP/IP stack (gVisor's netstack) that runs
// on an Ethernet frame device, such as a TAP device from package tap.
//
// A Stack has one IPv4 address, an optional default gateway and a DNS
// server; it answers ARP and ping, and serves TCP and UDP through plain
// net.Listener and net.Conn values. It implements netx.Network, so the rest
// of pasteur uses it exactly as it would use the host's sockets:
//
//	dev, err := tap.OpenOffload("tap100") // or tap.Open, without offloads
//	...
//	mtu, _ := dev.MTU()
//	s, err := netstack.New(dev, netstack.Config{
//		Addr:    netip.MustParsePrefix("10.0.0.3/24"),
//		Gateway: netip.MustParseAddr("10.0.0.1"),
//		MTU:     mtu,
//		Logger:  logger,
//	})
//	...
//	defer s.Close()
//	ln, err := s.Listen("tcp", ":443")
//
// The host's IP stack is never used: names are resolved by DNS queries sent
// through the Stack itself.
//
// On a link with virtio-net headers (Link.VnetHdr), the Stack hands the
// device TCP segments of up to 64 KiB with a partial checksum, which the
// kernel completes and splits, and takes such segments in. Outbound frames
// wait in a bounded queue for one writer goroutine; when it is full, senders
// wait rather than lose frames.
package netstack

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// nicID is the Stack's only network interface.
const nicID tcpip.NICID = 1

// Config configures a Stack.
type Config struct {
	// Addr is the Stack's IPv4 address and subnet, e.g. 10.0.0.3/24.
	// Addresses in the subnet are reached directly on the link.
	Addr netip.Prefix

	// Gateway is the IPv4 router for addresses outside the subnet. If it
	// is the zero Addr, the Stack has no default route.
	Gateway netip.Addr

	// DNS is the IPv4 address of the DNS server (port 53) that resolves
	// host names. If it is the zero Addr, the Gateway is used.
	DNS netip.Addr

	// MTU is the largest IP packet the link carries, Ethernet header
	// excluded (a TAP device's MTU). Zero means 1500.
	MTU int

	// Logger receives link errors. Nil means no logging.
	Logger *slog.Logger
}

// Stack is a TCP/IP stack on one Ethernet link. Its methods may be called
// concurrently.
type Stack struct {
	cfg      Config
	link     Link
	ep       *endpoint
	stack    *stack.Stack
	resolver *net.Resolver
	log      *slog.Logger

	wg        sync.WaitGroup // the link loops
	lastErr   atomic.Pointer[string]
	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool

	stats struct {
		framesIn, framesOut, bytesIn, bytesOut, writeErrors, badFrames atomic.Uint64
	}
}

// New starts a Stack on link, an Ethernet device such as a *tap.Device. The
// Stack owns link from then on and closes it in Close (if New fails, link is
// left open). The Stack's MAC address is derived from its IPv4 address
// (02:00:a:b:c:d), so that it stays the same across restarts.
func New(link Link, cfg Config) (*Stack, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	if !cfg.DNS.IsValid() {
		cfg.DNS = cfg.Gateway
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	ipstack := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
		HandleLocal:        true,
	})
	s := &Stack{
		cfg:   cfg,
		link:  link,
		stack: ipstack,
		log:   cfg.Logger.With("addr", cfg.Addr.String()),
	}
	// The endpoint carries whole frames, so its MTU counts the Ethernet
	// header; ethernet.Endpoint subtracts it again for the IP layer.
	s.ep = &endpoint{
		link:    link,
		vnet:    link.VnetHdr(),
		mtu:     uint32(cfg.MTU + header.EthernetMinimumSize),
		addr:    macFor(cfg.Addr.Addr()),
		s:       s,
		queue:   make(chan *stack.PacketBuffer, queueLen),
		quit:    make(chan struct{}),
		written: make(chan struct{}),
	}
	if err := configure(ipstack, ethernet.New(s.ep), cfg); err != nil {
		ipstack.Destroy()
		return nil, err
	}
	s.resolver = s.newResolver()
	s.wg.Add(2)
	go s.ep.readLoop()
	go s.ep.writeLoop()
	return s, nil
}

// check reports what is wrong with cfg, if anything.
func (cfg *Config) check() error {
	switch {
	case !cfg.Addr.IsValid() || !cfg.Addr.Addr().Is4():
		return fmt.Errorf("netstack: address %v is not an IPv4 prefix such as 10.0.0.3/24", cfg.Addr)
	case cfg.Gateway.IsValid() && !cfg.Gateway.Is4():
		return fmt.Errorf("netstack: gateway %v is not an IPv4 address", cfg.Gateway)
	case cfg.DNS.IsValid() && !cfg.DNS.Is4():
		return fmt.Errorf("netstack: DNS server %v is not an IPv4 address", cfg.DNS)
	case cfg.MTU != 0 && (cfg.MTU < 576 || cfg.MTU > 65535-header.EthernetMinimumSize):
		return fmt.Errorf("netstack: MTU %d out of range [576, %d]", cfg.MTU, 65535-header.EthernetMinimumSize)
	}
	return nil
}

// configure adds the NIC, its address and its routes to s.
func configure(s *stack.Stack, link stack.LinkEndpoint, cfg Config) error {
	if err := setTCPOptions(s); err != nil {
		return err
	}
	if err := s.CreateNIC(nicID, link); err != nil {
		return fmt.Errorf("netstack: create NIC: %s", err)
	}
	addr := tcpip.ProtocolAddress{
		Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpip.AddrFrom4(cfg.Addr.Addr().As4()),
			PrefixLen: cfg.Addr.Bits(),
		},
	}
	if err := s.AddProtocolAddress(nicID, addr, stack.AddressProperties{}); err != nil {
		return fmt.Errorf("netstack: add address %v: %s", cfg.Addr, err)
	}
	routes := []tcpip.Route{{Destination: addr.AddressWithPrefix.Subnet(), NIC: nicID}}
	if cfg.Gateway.IsValid() {
		routes = append(routes, tcpip.Route{
			Destination: header.IPv4EmptySubnet,
			Gateway:     tcpip.AddrFrom4(cfg.Gateway.As4()),
			NIC:         nicID,
		})
	}
	s.SetRouteTable(routes)
	return nil
}

// setTCPOptions sets the TCP options chosen by measurement (BENCHMARKS.md,
// "TAP offloads"): SACK on; RACK loss detection off, since its tail loss
// probes fired spuriously on a clean link (thousands of retransmits in the
// benchmark, half the throughput); reno, gVisor's default (cubic measured
// no better); gVisor's default buffers, 1 MiB growing to 4 MiB with
// receive-buffer moderation (4 MiB from the start measured no faster and
// cost memory).
func setTCPOptions(s *stack.Stack) error {
	sack := tcpip.TCPSACKEnabled(true)
	recovery := tcpip.TCPRecovery(0)
	cc := tcpip.CongestionControlOption("reno")
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	for _, o := range []struct {
		name string
		opt  tcpip.SettableTransportProtocolOption
	}{{"SACK", &sack}, {"recovery", &recovery}, {"congestion control", &cc}, {"buffer moderation", &moderate}} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o.opt); err != nil {
			return fmt.Errorf("netstack: set TCP %s: %s", o.name, err)
		}
	}
	return nil
}

// macFor returns the locally administered MAC address 02:00:a:b:c:d for the
// IPv4 address a.b.c.d.
func macFor(ip netip.Addr) tcpip.LinkAddress {
	a := ip.As4()
	return tcpip.LinkAddress([]byte{0x02, 0x00, a[0], a[1], a[2], a[3]})
}

// Close shuts the Stack down: open connections and listeners are aborted,
// the link loops stop and the link is closed. It returns the link's Close
// error. Calls after the first do nothing and return the same error.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		// Destroy first, so that aborted connections can still send their
		// resets.
		s.stack.Destroy()
		s.ep.closeQueue(time.Second)
		if err := s.link.Close(); err != nil {
			s.closeErr = fmt.Errorf("netstack: close link: %w", err)
		}
		s.wg.Wait()
	})
	return s.closeErr
}

// Stats are counters of a Stack's link, for benchmarks and diagnostics.
type Stats struct {
	FramesIn, FramesOut uint64 // frames read from and written to the link
	BytesIn, BytesOut   uint64 // their sizes, Ethernet headers included
	WriteErrors         uint64 // frames the link failed to write
	BadFrames           uint64 // inbound frames dropped for a bad header or checksum
	Retransmits         uint64 // TCP segments sent again
}

// Stats returns the Stack's counters so far.
func (s *Stack) Stats() Stats {
	return Stats{
		FramesIn:    s.stats.framesIn.Load(),
		FramesOut:   s.stats.framesOut.Load(),
		BytesIn:     s.stats.bytesIn.Load(),
		BytesOut:    s.stats.bytesOut.Load(),
		WriteErrors: s.stats.writeErrors.Load(),
		BadFrames:   s.stats.badFrames.Load(),
		Retransmits: s.stack.Stats().TCP.Retransmits.Value(),
	}
}

// writeFailed counts a failed frame write and logs each new kind of error
// once, not once per frame.
func (s *Stack) writeFailed(err error) {
	s.stats.writeErrors.Add(1)
	msg := err.Error()
	if old := s.lastErr.Load(); old == nil || *old != msg {
		s.lastErr.Store(&msg)
		s.log.Warn("netstack: link write failed; frame dropped", "err", err)
	}
}

// isClosing reports whether err is the link's answer to being closed.
func (s *Stack) isClosing(err error) bool {
	return s.closed.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF)
}
