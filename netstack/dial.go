package netstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/pasteur-dev/pasteur/netx"
)

// A Stack is one of pasteur's networks.
var _ netx.Network = (*Stack)(nil)

// Listen announces on the local address over TCP, as net.Listen does.
// network must be "tcp" or "tcp4"; address is "host:port", where the host is
// empty, 0.0.0.0 or the Stack's address, and port 0 picks a free port (see
// the listener's Addr). Once the listener or the Stack is closed, Accept
// returns an error that wraps net.ErrClosed.
func (s *Stack) Listen(network, address string) (net.Listener, error) {
	fail := func(err error) error {
		return fmt.Errorf("netstack: listen %s %s: %w", network, address, err)
	}
	if s.closed.Load() {
		return nil, fail(net.ErrClosed)
	}
	if network != "tcp" && network != "tcp4" {
		return nil, fail(errors.New(`unsupported network (want "tcp" or "tcp4")`))
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
	if host != "" {
		ip, err := parseIPv4(host)
		if err != nil {
			return nil, fail(err)
		}
		if !ip.IsUnspecified() {
			local.Addr = tcpip.AddrFrom4(ip.As4())
		}
	}
	ln, err := gonet.ListenTCP(s.stack, local, ipv4.ProtocolNumber)
	if err != nil {
		return nil, fail(err)
	}
	return &listener{TCPListener: ln, stack: s, addr: ln.Addr()}, nil
}

// Dial connects to address ("host:port") over network ("tcp", "tcp4", "udp"
// or "udp4"), as net.Dialer.DialContext does. A host name is resolved by the
// Stack's DNS server, IPv4 only; each address found is tried in turn. ctx
// bounds the whole dial, resolution included.
func (s *Stack) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	fail := func(err error) error {
		return fmt.Errorf("netstack: dial %s %s: %w", network, address, err)
	}
	if s.closed.Load() {
		return nil, fail(net.ErrClosed)
	}
	var udp bool
	switch network {
	case "tcp", "tcp4":
	case "udp", "udp4":
		udp = true
	default:
		return nil, fail(errors.New(`unsupported network (want "tcp", "tcp4", "udp" or "udp4")`))
	}
	host, service, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fail(err)
	}
	port, err := s.resolver.LookupPort(ctx, network, service)
	if err != nil {
		return nil, fail(err)
	}
	ips, err := s.lookup(ctx, host)
	if err != nil {
		return nil, fail(err)
	}
	var first error
	for _, ip := range ips {
		remote := tcpip.FullAddress{Addr: tcpip.AddrFrom4(ip.As4()), Port: uint16(port)}
		c, err := s.dialOne(ctx, udp, remote)
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fail(first)
}

// dialOne connects to one address.
func (s *Stack) dialOne(ctx context.Context, udp bool, remote tcpip.FullAddress) (net.Conn, error) {
	// Return no typed nil pointer inside a non-nil net.Conn.
	if udp {
		c, err := gonet.DialUDP(s.stack, nil, &remote, ipv4.ProtocolNumber)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	c, err := gonet.DialContextTCP(ctx, s.stack, remote, ipv4.ProtocolNumber)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parseIPv4 parses an IPv4 address (or an IPv4-mapped IPv6 one).
func parseIPv4(host string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", host)
	}
	if ip = ip.Unmap(); !ip.Is4() {
		return netip.Addr{}, fmt.Errorf("%s is not an IPv4 address (the stack has IPv4 only)", host)
	}
	return ip, nil
}

// listener is a TCP listener whose Accept reports net.ErrClosed once the
// listener or its Stack is closed, as the net package's listeners do.
type listener struct {
	*gonet.TCPListener
	stack  *Stack
	addr   net.Addr
	closed atomic.Bool
}

// Accept waits for and returns the next connection.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.TCPListener.Accept()
	if err != nil && (l.closed.Load() || l.stack.closed.Load()) {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	return c, err
}

// Close stops listening and unblocks pending Accepts.
func (l *listener) Close() error {
	if l.closed.Swap(true) {
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	l.TCPListener.Shutdown() // wakes Accepts blocked on the listener
	return l.TCPListener.Close()
}

// Addr returns the address the listener is bound to.
func (l *listener) Addr() net.Addr { return l.addr }
