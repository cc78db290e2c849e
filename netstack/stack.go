// Package netstack is a userspace TCP/IP stack (gVisor's netstack) that runs
// on an Ethernet frame device, such as a TAP device from package tap.
//
// A Stack has IPv4, IPv6 or both: static addresses with their gateways, an
// IPv4 address leased by DHCP (renewed in the background), and IPv6
// addresses made by SLAAC from router advertisements. It answers ARP,
// neighbour discovery and ping, and serves TCP and UDP through plain
// net.Listener and net.Conn values; listeners on the unspecified address
// take both families. It implements netx.Network, so the rest of pasteur
// uses it exactly as it would use the host's sockets:
//
//	dev, err := tap.OpenOffload("tap100") // or tap.Open, without offloads
//	...
//	mtu, _ := dev.MTU()
//	s, err := netstack.New(dev, netstack.Config{
//		Addr:     netip.MustParsePrefix("10.0.0.3/24"),
//		Gateway:  netip.MustParseAddr("10.0.0.1"),
//		Addr6:    netip.MustParsePrefix("fd00::3/64"),
//		Gateway6: netip.MustParseAddr("fd00::1"),
//		MTU:      mtu,
//		Logger:   logger,
//	})
//	...
//	defer s.Close()
//	ln, err := s.Listen("tcp", ":443")
//
// The host's IP stack is never used: names are resolved by DNS queries sent
// through the Stack itself, for A and AAAA records, and a name with both is
// dialled the Happy Eyeballs way (RFC 8305).
//
// On a link with virtio-net headers (Link.VnetHdr), the Stack hands the
// device TCP segments of up to 64 KiB with a partial checksum, which the
// kernel completes and splits, and takes such segments in. A sender writes
// its frames to the link itself when none are waiting; otherwise they wait
// in a bounded queue for one writer goroutine, and when it is full, senders
// wait rather than lose frames. Bare TCP acknowledgements are held back up
// to a millisecond, and dropped when the answer they would precede carries
// them (a delayed ACK, which gVisor's TCP does not do itself).
//
// Connections are the package's own net.Conn type rather than gVisor's
// gonet adapter: it costs less per call (see conn.go).
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
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// nicID is the Stack's only network interface.
const nicID tcpip.NICID = 1

// Config configures a Stack. At least one of Addr, Addr6, DHCP and
// AcceptRA must be set.
type Config struct {
	// Addr is the Stack's static IPv4 address and subnet, e.g.
	// 10.0.0.3/24. Addresses in the subnet are reached directly on the
	// link. The zero Prefix means no static IPv4 address.
	Addr netip.Prefix

	// Gateway is the IPv4 router for addresses outside Addr's subnet. If
	// it is the zero Addr, the Stack has no static IPv4 default route.
	Gateway netip.Addr

	// Addr6 is the Stack's static IPv6 address and prefix, e.g.
	// fd00::3/64. The zero Prefix means none.
	Addr6 netip.Prefix

	// Gateway6 is the IPv6 router for addresses outside Addr6's prefix
	// (a link-local router address works too). Zero means none.
	Gateway6 netip.Addr

	// DHCP asks a DHCPv4 server for the IPv4 address, subnet, gateway
	// and DNS server, and keeps the lease renewed. When the lease runs
	// out unrenewed, its address is removed (nothing is served on it)
	// and the Stack asks again. Not with Addr.
	DHCP bool

	// AcceptRA takes IPv6 addresses (SLAAC, from the MAC address, so the
	// same across restarts), routes and DNS servers from the router
	// advertisements on the link.
	AcceptRA bool

	// DNS is the address of the DNS server (port 53), IPv4 or IPv6, that
	// resolves host names. If it is the zero Addr, the Stack uses the
	// one DHCP named, else one a router advertised, else Gateway, else
	// Gateway6.
	DNS netip.Addr

	// MAC is the Stack's Ethernet address. It should stay the same
	// across restarts: the neighbours' caches and the DHCP server
	// remember it, and SLAAC addresses are made from it. If it is nil, it
	// is derived from Addr (02:00:a:b:c:d), else from the last four bytes
	// of Addr6; with neither, it is required.
	MAC net.HardwareAddr

	// MTU is the largest IP packet the link carries, Ethernet header
	// excluded (a TAP device's MTU). Zero means 1500.
	MTU int

	// Logger receives link errors and what DHCP and router
	// advertisements configured. Nil means no logging.
	Logger *slog.Logger
}

// Stack is a TCP/IP stack on one Ethernet link. Its methods may be called
// concurrently.
type Stack struct {
	cfg      Config
	link     Link
	ep       *endpoint
	stack    *stack.Stack
	resolver *net.Resolver // for service names only
	log      *slog.Logger

	ctx    context.Context // ends when the Stack closes
	cancel context.CancelFunc

	dyn dynamic // what DHCP and router advertisements configured

	moderate   bool        // receive buffers are moderated: connections report what they read
	sendBudget *sendBudget // room for raised send buffers, shared by the connections

	wg        sync.WaitGroup // the link loops and the DHCP client
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
// left open). With DHCP or AcceptRA, addresses come later: see
// WaitAddresses.
func New(link Link, cfg Config) (*Stack, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MAC == nil {
		cfg.MAC = macFor(cfg)
	}

	s := &Stack{
		cfg:  cfg,
		link: link,
		log:  cfg.Logger.With("mac", cfg.MAC.String()),

		moderate:   moderateReceiveBuffers,
		sendBudget: newSendBudget(sendBudgetBytes),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.dyn.changed = make(chan struct{})
	s.stack = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol, ipv6.NewProtocolWithOptions(ipv6.Options{
			NDPConfigs:       ndpConfigs(cfg.AcceptRA),
			AutoGenLinkLocal: cfg.hasIPv6(),
			NDPDisp:          (*ndpDispatcher)(s),
			DADConfigs:       stack.DADConfigurations{DupAddrDetectTransmits: 1, RetransmitTimer: time.Second},
		})},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
	})
	// The endpoint carries whole frames, so its MTU counts the Ethernet
	// header; ethernet.Endpoint subtracts it again for the IP layer.
	s.ep = &endpoint{
		link:    link,
		vnet:    link.VnetHdr(),
		mtu:     uint32(cfg.MTU + header.EthernetMinimumSize),
		addr:    tcpip.LinkAddress(cfg.MAC),
		s:       s,
		queue:   make(chan *stack.PacketBuffer, queueLen),
		quit:    make(chan struct{}),
		written: make(chan struct{}),
	}
	s.ep.hold.due = make(chan struct{}, 1)
	if err := s.configure(ethernet.New(s.ep)); err != nil {
		s.stack.Destroy()
		s.cancel()
		return nil, err
	}
	s.resolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("netstack: service names only")
	}}
	s.wg.Add(2)
	go s.ep.readLoop()
	go s.ep.writeLoop()
	if cfg.DHCP {
		s.wg.Add(1)
		go s.runDHCP()
	}
	return s, nil
}

// hasIPv6 reports whether the Stack takes part in IPv6.
func (cfg *Config) hasIPv6() bool { return cfg.Addr6.IsValid() || cfg.AcceptRA }

// check reports what is wrong with cfg, if anything.
func (cfg *Config) check() error {
	switch {
	case !cfg.Addr.IsValid() && !cfg.Addr6.IsValid() && !cfg.DHCP && !cfg.AcceptRA:
		return errors.New("netstack: no address: want a static IPv4 or IPv6 address, DHCP or router advertisements")
	case cfg.Addr.IsValid() && !cfg.Addr.Addr().Is4():
		return fmt.Errorf("netstack: address %v is not an IPv4 prefix such as 10.0.0.3/24", cfg.Addr)
	case cfg.Addr6.IsValid() && (!cfg.Addr6.Addr().Is6() || cfg.Addr6.Addr().Is4In6()):
		return fmt.Errorf("netstack: address %v is not an IPv6 prefix such as fd00::3/64", cfg.Addr6)
	case cfg.Addr.IsValid() && cfg.DHCP:
		return errors.New("netstack: a static IPv4 address and DHCP exclude each other")
	case cfg.Gateway.IsValid() && !cfg.Gateway.Is4():
		return fmt.Errorf("netstack: gateway %v is not an IPv4 address", cfg.Gateway)
	case cfg.Gateway.IsValid() && !cfg.Addr.IsValid():
		return errors.New("netstack: an IPv4 gateway needs a static IPv4 address")
	case cfg.Gateway6.IsValid() && (!cfg.Gateway6.Is6() || cfg.Gateway6.Is4In6()):
		return fmt.Errorf("netstack: gateway %v is not an IPv6 address", cfg.Gateway6)
	case cfg.Gateway6.IsValid() && !cfg.Addr6.IsValid():
		return errors.New("netstack: an IPv6 gateway needs a static IPv6 address")
	case cfg.DNS.IsValid() && cfg.DNS.Is4In6():
		return fmt.Errorf("netstack: DNS server %v: write it as an IPv4 address", cfg.DNS)
	case cfg.MAC != nil && (len(cfg.MAC) != 6 || cfg.MAC[0]&1 != 0):
		return fmt.Errorf("netstack: MAC address %v is not a unicast Ethernet address", cfg.MAC)
	case cfg.MAC == nil && !cfg.Addr.IsValid() && !cfg.Addr6.IsValid():
		return errors.New("netstack: without a static address, a MAC address is needed")
	case cfg.MTU != 0 && (cfg.MTU < 1280 && cfg.hasIPv6() || cfg.MTU < 576 || cfg.MTU > 65535-header.EthernetMinimumSize):
		return fmt.Errorf("netstack: MTU %d out of range [576 (1280 with IPv6), %d]", cfg.MTU, 65535-header.EthernetMinimumSize)
	}
	return nil
}

// configure adds the NIC, its static addresses and their routes.
func (s *Stack) configure(link stack.LinkEndpoint) error {
	if err := setTCPOptions(s.stack); err != nil {
		return err
	}
	if err := s.stack.CreateNIC(nicID, link); err != nil {
		return fmt.Errorf("netstack: create NIC: %s", err)
	}
	for _, a := range []struct {
		addr netip.Prefix
		gw   netip.Addr
	}{{s.cfg.Addr, s.cfg.Gateway}, {s.cfg.Addr6, s.cfg.Gateway6}} {
		if !a.addr.IsValid() {
			continue
		}
		if err := s.addAddress(a.addr); err != nil {
			return err
		}
		s.addRoutes(a.addr, a.gw)
	}
	return nil
}

// setTCPOptions sets the TCP options chosen by measurement (BENCHMARKS.md,
// "TAP offloads"): SACK on; RACK loss detection off, since its tail loss
// probes fired spuriously on a clean link (thousands of retransmits in the
// benchmark, half the throughput); reno, gVisor's default (cubic measured
// no better); gVisor's default receive buffers, 1 MiB growing to 4 MiB
// with receive-buffer moderation (4 MiB from the start measured no faster
// and cost memory). Send buffers start at sendBuffer; gVisor's growth of
// them with the congestion window is turned off per connection and
// sendbuf.go raises those that drain theirs to raisedSendBuffer within a
// budget, so that a client that never reads holds sendBuffer (1 MiB each
// let 300 such clients hold 300 MiB, BENCHMARKS.md issue 13) while
// downloads get the larger buffer (BENCHMARKS.md issue 16).
func setTCPOptions(s *stack.Stack) error {
	sack := tcpip.TCPSACKEnabled(true)
	recovery := tcpip.TCPRecovery(0)
	cc := tcpip.CongestionControlOption("reno")
	moderate := tcpip.TCPModerateReceiveBufferOption(moderateReceiveBuffers)
	send := tcpip.TCPSendBufferSizeRangeOption{Min: 4 << 10, Default: sendBuffer, Max: 4 << 20}
	for _, o := range []struct {
		name string
		opt  tcpip.SettableTransportProtocolOption
	}{{"SACK", &sack}, {"recovery", &recovery}, {"congestion control", &cc}, {"buffer moderation", &moderate}, {"send buffer", &send}} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o.opt); err != nil {
			return fmt.Errorf("netstack: set TCP %s: %s", o.name, err)
		}
	}
	return nil
}

// moderateReceiveBuffers turns on gVisor's receive-buffer moderation
// (auto-tuning, as Linux's tcp_moderate_rcvbuf).
const moderateReceiveBuffers = true

// errClosed is returned by the methods of a closed Stack.
var errClosed = fmt.Errorf("netstack: %w", net.ErrClosed)

// sendBuffer is the TCP send buffer a connection starts with: room for
// the bandwidth-delay product of a fast LAN link, and what a client that
// stops reading costs at most outside the budget of raised buffers
// (sendbuf.go).
const sendBuffer = 256 << 10

// Close shuts the Stack down: open connections and listeners are aborted,
// the link loops stop and the link is closed. It returns the link's Close
// error. Calls after the first do nothing and return the same error.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.cancel()
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
		s.log.Warn("link write failed; frame dropped", "err", err)
	}
}

// isClosing reports whether err is the link's answer to being closed.
func (s *Stack) isClosing(err error) bool {
	return s.closed.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF)
}
