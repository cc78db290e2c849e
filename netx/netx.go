// Package netx is pasteur's one network seam.
//
// Everything that listens or dials (the HTTP server, the git transports, the
// ACME client) receives a Network and never calls net.Listen or net.Dial
// itself. Two implementations exist: Host, the operating system's sockets,
// and the userspace TCP/IP stack in package netstack, which runs on a TAP
// device and never touches the host's IP stack.
package netx

import (
	"context"
	"net"
)

// Network is a TCP/IP stack.
type Network interface {
	// Listen announces on the local address, as net.Listen does ("tcp",
	// "tcp4", "tcp6"). An empty host means every address of the stack,
	// of both families for "tcp".
	Listen(network, address string) (net.Listener, error)

	// Dial connects to address ("host:port") over network ("tcp", "tcp4",
	// "tcp6", "udp", "udp4", "udp6"), as net.Dialer.DialContext does. A host name is
	// resolved by the stack's own resolver. The context bounds the whole
	// dial, resolution included.
	Dial(ctx context.Context, network, address string) (net.Conn, error)
}

// Host is the operating system's network stack (MirageOS's "socket" stack).
type Host struct {
	dialer net.Dialer
}

// Listen implements Network with net.Listen.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	return net.Listen(network, address)
}

// Dial implements Network with a net.Dialer.
func (h *Host) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	return h.dialer.DialContext(ctx, network, address)
}
