package netstack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// dynamic is what DHCP and router advertisements configured, under mu.
type dynamic struct {
	mu      sync.Mutex
	lease   netip.Prefix   // the DHCP lease's address; zero without one
	dhcpDNS []netip.Addr   // DNS servers of the lease
	raDNS   []netip.Addr   // DNS servers router advertisements named (RDNSS)
	slaac   []netip.Prefix // addresses SLAAC made
	changed chan struct{}  // closed and replaced at every change
}

// notifyLocked wakes WaitAddresses. dyn.mu must be held.
func (d *dynamic) notifyLocked() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// macFor derives a stable, locally administered MAC address from cfg's
// static address: 02:00:a:b:c:d for the IPv4 address a.b.c.d, else
// 02:00 and the last four bytes of the IPv6 address.
func macFor(cfg Config) net.HardwareAddr {
	var b []byte
	if cfg.Addr.IsValid() {
		a := cfg.Addr.Addr().As4()
		b = a[:]
	} else {
		a := cfg.Addr6.Addr().As16()
		b = a[12:]
	}
	return net.HardwareAddr{0x02, 0x00, b[0], b[1], b[2], b[3]}
}

// protocolOf returns the network protocol that carries ip.
func protocolOf(ip netip.Addr) tcpip.NetworkProtocolNumber {
	if ip.Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

// addrFrom converts ip (IPv4 or IPv6, not mapped) to gVisor's form.
func addrFrom(ip netip.Addr) tcpip.Address {
	if ip.Is4() {
		return tcpip.AddrFrom4(ip.As4())
	}
	return tcpip.AddrFrom16(ip.As16())
}

// netipFrom converts a gVisor address back.
func netipFrom(a tcpip.Address) netip.Addr {
	ip, _ := netip.AddrFromSlice(a.AsSlice())
	return ip
}

// addAddress assigns p's address to the NIC.
func (s *Stack) addAddress(p netip.Prefix) error {
	addr := tcpip.ProtocolAddress{
		Protocol:          protocolOf(p.Addr()),
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: addrFrom(p.Addr()), PrefixLen: p.Bits()},
	}
	if err := s.stack.AddProtocolAddress(nicID, addr, stack.AddressProperties{}); err != nil {
		return fmt.Errorf("netstack: add address %v: %s", p, err)
	}
	return nil
}

// addRoutes adds the route to p's subnet, on the link, and, if gw is valid,
// the default route of p's family through gw.
func (s *Stack) addRoutes(p netip.Prefix, gw netip.Addr) {
	sub := tcpip.AddressWithPrefix{Address: addrFrom(p.Addr()), PrefixLen: p.Bits()}.Subnet()
	s.stack.AddRoute(tcpip.Route{Destination: sub, NIC: nicID})
	if !gw.IsValid() {
		return
	}
	def := header.IPv4EmptySubnet
	if p.Addr().Is6() {
		def = header.IPv6EmptySubnet
	}
	s.stack.AddRoute(tcpip.Route{Destination: def, Gateway: addrFrom(gw), NIC: nicID})
}

// removeAddress removes p's address and the routes addRoutes added for it.
func (s *Stack) removeAddress(p netip.Prefix, gw netip.Addr) {
	s.stack.RemoveAddress(nicID, addrFrom(p.Addr()))
	sub := tcpip.AddressWithPrefix{Address: addrFrom(p.Addr()), PrefixLen: p.Bits()}.Subnet()
	s.stack.RemoveRoutes(func(r tcpip.Route) bool {
		return r.Destination == sub && r.Gateway == (tcpip.Address{}) ||
			gw.IsValid() && r.Gateway == addrFrom(gw) && r.Destination.Prefix() == 0
	})
}

// Addrs returns the Stack's usable addresses now (static, leased and made
// by SLAAC; link-local and tentative ones left out), IPv4 first.
func (s *Stack) Addrs() []netip.Addr {
	var out []netip.Addr
	for _, pa := range s.stack.AllAddresses()[nicID] {
		ip := netipFrom(pa.AddressWithPrefix.Address)
		if !ip.IsGlobalUnicast() { // not link-local, broadcast, 0.0.0.0
			continue
		}
		if s.stack.CheckLocalAddress(nicID, pa.Protocol, pa.AddressWithPrefix.Address) == 0 {
			continue // tentative: duplicate address detection still runs
		}
		out = append(out, ip)
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}

// WaitAddresses waits until every source of addresses in the Config has
// given one: the static addresses (once duplicate address detection has
// passed), the DHCP lease, a SLAAC address. It returns nil then, or ctx's
// error; the Stack keeps trying in either case.
func (s *Stack) WaitAddresses(ctx context.Context) error {
	for {
		s.dyn.mu.Lock()
		changed := s.dyn.changed
		lease, slaac := s.dyn.lease, slices.Clone(s.dyn.slaac)
		s.dyn.mu.Unlock()
		have := s.Addrs()
		ready := (!s.cfg.DHCP || lease.IsValid()) &&
			(!s.cfg.Addr6.IsValid() || slices.Contains(have, s.cfg.Addr6.Addr())) &&
			(!s.cfg.AcceptRA || slices.ContainsFunc(slaac, func(p netip.Prefix) bool { return slices.Contains(have, p.Addr()) }))
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("netstack: waiting for addresses: %w", ctx.Err())
		case <-s.ctx.Done():
			return errClosed
		case <-changed:
		case <-time.After(50 * time.Millisecond): // duplicate address detection tells nobody
		}
	}
}

// dnsServers returns the DNS servers to ask, in order of preference.
func (s *Stack) dnsServers() []netip.Addr {
	if s.cfg.DNS.IsValid() {
		return []netip.Addr{s.cfg.DNS}
	}
	s.dyn.mu.Lock()
	out := append(slices.Clone(s.dyn.dhcpDNS), s.dyn.raDNS...)
	s.dyn.mu.Unlock()
	for _, gw := range []netip.Addr{s.cfg.Gateway, s.cfg.Gateway6} {
		if gw.IsValid() {
			out = append(out, gw)
		}
	}
	return out
}
