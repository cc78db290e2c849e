package main

import (
	"net"
	"net/netip"
	"testing"

	"github.com/pasteur-dev/pasteur/netx"
)

// ownAddrs is a network that knows its addresses, as the userspace stack.
type ownAddrs struct {
	netx.Host
	ips []netip.Addr
}

func (n *ownAddrs) Addrs() []netip.Addr { return n.ips }

var _ netx.Network = (*ownAddrs)(nil)

func TestDisplayAddr(t *testing.T) {
	stack := &ownAddrs{ips: []netip.Addr{netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("fd00::3")}}
	for _, tc := range []struct {
		name    string
		addr    net.Addr
		network netx.Network
		want    string
	}{
		{"stack, every address", &net.TCPAddr{Port: 4343}, stack, "10.0.0.3:4343"},
		{"stack, unspecified IPv6", &net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, stack, "10.0.0.3:80"},
		{"stack, one address", &net.TCPAddr{IP: net.ParseIP("fd00::3"), Port: 4343}, stack, "[fd00::3]:4343"},
		{"stack without addresses yet", &net.TCPAddr{Port: 4343}, &ownAddrs{}, ":4343"},
		{"host sockets", &net.TCPAddr{IP: net.IPv6unspecified, Port: 4343}, &netx.Host{}, "[::]:4343"},
		{"no address", nil, stack, "fallback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := displayAddr(tc.addr, "fallback", tc.network); got != tc.want {
				t.Errorf("displayAddr = %q, want %q", got, tc.want)
			}
		})
	}
}
