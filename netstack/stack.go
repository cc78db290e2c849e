// Package netstack is a userspace TCP/IP stack (gVisor's netstack) that runs
// on an Ethernet frame device, such as a TAP device from package tap.
//
// A Stack has one IPv4 address, an optional default gateway and a DNS
// server; it answers ARP and ping, and serves TCP and UDP through plain
// net.Listener and net.Conn values. It implements netx.Network, so the rest
// of pasteur uses it exactly as it would use the host's sockets:
//
//	dev, err := tap.Open("tap100")
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
package netstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
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

// queueLen is how many outbound frames may wait for the link writer; more are
// dropped (TCP retransmits them).
const queueLen = 512

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
	link     io.ReadWriteCloser
	ep       *channel.Endpoint
	stack    *stack.Stack
	resolver *net.Resolver
	log      *slog.Logger

	cancel    context.CancelFunc // stops the outbound loop
	wg        sync.WaitGroup     // the link loops
	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool

	stats struct {
		framesIn, framesOut, bytesIn, bytesOut, writeErrors atomic.Uint64
	}
}

// New starts a Stack on link, a frame device: each Read must return one whole
// Ethernet frame and each Write must send one (a *tap.Device does this). The
// Stack owns link from then on and closes it in Close (if New fails, link is
// left open). The Stack's MAC
// address is derived from its IPv4 address (02:00:a:b:c:d), so that it stays
// the same across restarts.
func New(link io.ReadWriteCloser, cfg Config) (*Stack, error) {
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
	// The channel endpoint carries whole frames, so its MTU counts the
	// Ethernet header; ethernet.Endpoint subtracts it again for the IP layer.
	ep := channel.New(queueLen, uint32(cfg.MTU+header.EthernetMinimumSize), macFor(cfg.Addr.Addr()))
	if err := configure(ipstack, ethernet.New(ep), cfg); err != nil {
		ipstack.Destroy()
		return nil, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	s := &Stack{
		cfg:    cfg,
		link:   link,
		ep:     ep,
		stack:  ipstack,
		log:    cfg.Logger.With("addr", cfg.Addr.String()),
		cancel: cancel,
	}
	s.resolver = s.newResolver()
	s.wg.Add(2)
	go s.readLoop()
	go s.writeLoop(ctx)
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
	sack := tcpip.TCPSACKEnabled(true)
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); err != nil {
		return fmt.Errorf("netstack: enable SACK: %s", err)
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

// macFor returns the locally administered MAC address 02:00:a:b:c:d for the
// IPv4 address a.b.c.d.
func macFor(ip netip.Addr) tcpip.LinkAddress {
	a := ip.As4()
	return tcpip.LinkAddress([]byte{0x02, 0x00, a[0], a[1], a[2], a[3]})
}

// errClosed is returned by the methods of a closed Stack.
var errClosed = fmt.Errorf("netstack: %w", net.ErrClosed)

// Close shuts the Stack down: open connections and listeners are aborted,
// the link loops stop and the link is closed. It returns the link's Close
// error. Calls after the first do nothing and return the same error.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		// Destroy first, so that aborted connections can still send their
		// resets; it also closes the channel endpoint, ending writeLoop.
		s.stack.Destroy()
		s.cancel()
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
		Retransmits: s.stack.Stats().TCP.Retransmits.Value(),
	}
}

// isClosing reports whether err is the link's answer to being closed.
func (s *Stack) isClosing(err error) bool {
	return s.closed.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF)
}
