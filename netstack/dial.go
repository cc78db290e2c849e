package netstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/pasteur-dev/pasteur/netx"
)

// A Stack is one of pasteur's networks.
var _ netx.Network = (*Stack)(nil)

// Listen announces on the local address over TCP, as net.Listen does.
// network is "tcp", "tcp4" or "tcp6"; address is "host:port", where the
// host is one of the Stack's addresses or empty, 0.0.0.0 or :: for all of
// them ("tcp" then takes both families), and port 0 picks a free port (see
// the listener's Addr). Once the listener or the Stack is closed, Accept
// returns an error that wraps net.ErrClosed.
func (s *Stack) Listen(network, address string) (net.Listener, error) {
	fail := func(err error) error {
		return fmt.Errorf("netstack: listen %s %s: %w", network, address, err)
	}
	if s.closed.Load() {
		return nil, fail(net.ErrClosed)
	}
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil, fail(errors.New(`unsupported network (want "tcp", "tcp4" or "tcp6")`))
	}
	host, service, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fail(err)
	}
	port, err := s.resolver.LookupPort(context.Background(), network, service)
	if err != nil {
		return nil, fail(err)
	}
	local := tcpip.FullAddress{Port: uint16(port)}
	proto, v6only := ipv6.ProtocolNumber, network == "tcp6"
	if network == "tcp4" {
		proto = ipv4.ProtocolNumber
	}
	if host != "" {
		ip, err := netip.ParseAddr(host)
		if err != nil || ip.Zone() != "" {
			return nil, fail(fmt.Errorf("%q is not an IP address", host))
		}
		ip = ip.Unmap()
		if network == "tcp4" && !ip.Is4() || network == "tcp6" && ip.Is4() {
			return nil, fail(fmt.Errorf("%s is not an address of network %s", host, network))
		}
		if !ip.IsUnspecified() {
			local.Addr, proto = addrFrom(ip), protocolOf(ip)
		}
	}
	var wq waiter.Queue
	ep, terr := s.stack.NewEndpoint(tcp.ProtocolNumber, proto, &wq)
	if terr != nil {
		return nil, fail(errors.New(terr.String()))
	}
	if proto == ipv6.ProtocolNumber {
		ep.SocketOptions().SetV6Only(v6only)
	}
	if terr := ep.Bind(local); terr != nil {
		ep.Close()
		return nil, fail(errors.New(terr.String()))
	}
	if terr := ep.Listen(listenBacklog); terr != nil {
		ep.Close()
		return nil, fail(errors.New(terr.String()))
	}
	return s.newListener(ep, &wq), nil
}

// listenBacklog is the length of a listener's queue of connections not
// yet accepted.
const listenBacklog = 1024

// Dial connects to address ("host:port") over network ("tcp", "tcp4",
// "tcp6", "udp", "udp4" or "udp6"), as net.Dialer.DialContext does. A host
// name is resolved by the Stack's DNS server (A and AAAA records, as the
// network allows); when it has addresses of both families, TCP tries them
// the Happy Eyeballs way (RFC 8305): IPv6 first, IPv4 300 ms later or as
// soon as IPv6 fails, and the first connection made wins. ctx bounds the
// whole dial, resolution included.
func (s *Stack) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	fail := func(err error) error {
		return fmt.Errorf("netstack: dial %s %s: %w", network, address, err)
	}
	if s.closed.Load() {
		return nil, fail(net.ErrClosed)
	}
	var udp bool
	family := "ip"
	switch network {
	case "tcp", "tcp4", "tcp6":
		family += strings.TrimPrefix(network, "tcp")
	case "udp", "udp4", "udp6":
		udp = true
		family += strings.TrimPrefix(network, "udp")
	default:
		return nil, fail(errors.New(`unsupported network (want "tcp", "tcp4", "tcp6", "udp", "udp4" or "udp6")`))
	}
	host, service, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fail(err)
	}
	port, err := s.resolver.LookupPort(ctx, network, service)
	if err != nil {
		return nil, fail(err)
	}
	ips, err := s.lookup(ctx, host, family)
	if err != nil {
		return nil, fail(err)
	}
	ips = s.preferUsable(ips)
	var c net.Conn
	if udp {
		c, err = s.dialUDP(ips[0], uint16(port))
	} else {
		c, err = s.dialTCP(ctx, ips, uint16(port))
	}
	if err != nil {
		return nil, fail(err)
	}
	return c, nil
}

// dialUDP "connects" a UDP socket to ip:port.
func (s *Stack) dialUDP(ip netip.Addr, port uint16) (net.Conn, error) {
	remote := tcpip.FullAddress{Addr: addrFrom(ip), Port: port, NIC: nicID}
	c, err := gonet.DialUDP(s.stack, nil, &remote, protocolOf(ip))
	if err != nil {
		return nil, err // no typed nil pointer inside a non-nil net.Conn
	}
	return c, nil
}

// dialOneTCP connects to one address.
func (s *Stack) dialOneTCP(ctx context.Context, ip netip.Addr, port uint16) (net.Conn, error) {
	remote := tcpip.FullAddress{Addr: addrFrom(ip), Port: port, NIC: nicID}
	var wq waiter.Queue
	ep, terr := s.stack.NewEndpoint(tcp.ProtocolNumber, protocolOf(ip), &wq)
	if terr != nil {
		return nil, errors.New(terr.String())
	}
	c := newConn(ep, &wq, s.moderate, s.sendBudget)
	c.wwait.Store(true) // the connection's completion wakes a writer
	terr = ep.Connect(remote)
	if _, ok := terr.(*tcpip.ErrConnectStarted); ok {
		select {
		case <-ctx.Done():
			c.Close()
			return nil, ctx.Err()
		case <-c.writable:
		}
		terr = ep.LastError()
	}
	c.wwait.Store(false)
	if terr != nil {
		c.Close()
		return nil, &net.OpError{Op: "connect", Net: "tcp", Addr: tcpAddr(remote), Err: errors.New(terr.String())}
	}
	c.nameAddrs()
	return c, nil
}

// listener is a TCP listener whose Accept reports net.ErrClosed once the
// listener or its Stack is closed, as the net package's listeners do. Its
// waiter entry is registered for its whole life.
type listener struct {
	ep     tcpip.Endpoint
	wq     *waiter.Queue
	entry  waiter.Entry
	ready  chan struct{} // a token: a connection may be waiting
	done   chan struct{} // closed by Close
	stack  *Stack
	addr   net.Addr
	closed atomic.Bool
}

func (s *Stack) newListener(ep tcpip.Endpoint, wq *waiter.Queue) *listener {
	l := &listener{ep: ep, wq: wq, ready: make(chan struct{}, 1), done: make(chan struct{}), stack: s}
	if a, err := ep.GetLocalAddress(); err == nil {
		l.addr = tcpAddr(a)
	}
	l.entry.Init(l, waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr)
	wq.EventRegister(&l.entry)
	return l
}

// NotifyEvent implements waiter.EventListener.
func (l *listener) NotifyEvent(waiter.EventMask) { wake(l.ready) }

// Accept waits for and returns the next connection.
func (l *listener) Accept() (net.Conn, error) {
	for {
		ep, wq, terr := l.ep.Accept(nil)
		switch terr.(type) {
		case nil:
			// Another Accept may wait for a connection behind this one.
			wake(l.ready)
			c := newConn(ep, wq, l.stack.moderate, l.stack.sendBudget)
			c.nameAddrs()
			return c, nil
		case *tcpip.ErrWouldBlock:
			if !l.closed.Load() && !l.stack.closed.Load() {
				select {
				case <-l.ready:
					continue
				case <-l.done:
				}
			}
		}
		if l.closed.Load() || l.stack.closed.Load() {
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
		}
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: errors.New(terr.String())}
	}
}

// Close stops listening and unblocks pending Accepts.
func (l *listener) Close() error {
	if l.closed.Swap(true) {
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	close(l.done)
	l.wq.EventUnregister(&l.entry)
	l.ep.Close()
	return nil
}

// Addr returns the address the listener is bound to.
func (l *listener) Addr() net.Addr { return l.addr }
