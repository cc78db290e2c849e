package netstack

import (
	"net/netip"
	"slices"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ndpConfigs returns the neighbour discovery settings: with acceptRA,
// router solicitations at start, and routes, on-link prefixes and SLAAC
// addresses from the advertisements; without, advertisements are ignored.
func ndpConfigs(acceptRA bool) ipv6.NDPConfigurations {
	if !acceptRA {
		return ipv6.NDPConfigurations{HandleRAs: ipv6.HandlingRAsDisabled}
	}
	c := ipv6.DefaultNDPConfigurations()
	c.HandleRAs = ipv6.HandlingRAsAlwaysEnabled
	c.DiscoverDefaultRouters = true
	c.DiscoverMoreSpecificRoutes = true
	c.DiscoverOnLinkPrefixes = true
	c.AutoGenGlobalAddresses = true // the interface identifier is the MAC's EUI-64
	c.AutoGenTempGlobalAddresses = false
	return c
}

// ndpDispatcher is the Stack seen by gVisor's neighbour discovery: it turns
// what router advertisements say into routes, addresses and DNS servers,
// and logs it.
type ndpDispatcher Stack

var _ ipv6.NDPDispatcher = (*ndpDispatcher)(nil)

func (d *ndpDispatcher) OnDuplicateAddressDetectionResult(_ tcpip.NICID, addr tcpip.Address, res stack.DADResult) {
	if _, ok := res.(*stack.DADSucceeded); !ok {
		d.log.Warn("IPv6 address not usable: duplicate address detection", "addr", addr, "result", res)
	}
	s := (*Stack)(d)
	s.dyn.mu.Lock()
	s.dyn.notifyLocked()
	s.dyn.mu.Unlock()
}

func (d *ndpDispatcher) OnOffLinkRouteUpdated(_ tcpip.NICID, dest tcpip.Subnet, router tcpip.Address, _ header.NDPRoutePreference) {
	s := (*Stack)(d)
	found := false
	s.stack.RemoveRoutes(func(r tcpip.Route) bool {
		found = found || r.Destination == dest && r.Gateway == router
		return false
	})
	if !found {
		s.stack.AddRoute(tcpip.Route{Destination: dest, Gateway: router, NIC: nicID})
		d.log.Info("route from a router advertisement", "dest", dest, "router", router)
	}
}

func (d *ndpDispatcher) OnOffLinkRouteInvalidated(_ tcpip.NICID, dest tcpip.Subnet, router tcpip.Address) {
	(*Stack)(d).stack.RemoveRoutes(func(r tcpip.Route) bool { return r.Destination == dest && r.Gateway == router })
	d.log.Info("route expired", "dest", dest, "router", router)
}

func (d *ndpDispatcher) OnOnLinkPrefixDiscovered(_ tcpip.NICID, prefix tcpip.Subnet) {
	// Static and SLAAC addresses already route their own prefix; a
	// second identical route does no harm but is kept out for clarity.
	s := (*Stack)(d)
	found := false
	s.stack.RemoveRoutes(func(r tcpip.Route) bool {
		found = found || r.Destination == prefix && r.Gateway == (tcpip.Address{})
		return false
	})
	if !found {
		s.stack.AddRoute(tcpip.Route{Destination: prefix, NIC: nicID})
	}
}

func (d *ndpDispatcher) OnOnLinkPrefixInvalidated(_ tcpip.NICID, prefix tcpip.Subnet) {
	(*Stack)(d).stack.RemoveRoutes(func(r tcpip.Route) bool { return r.Destination == prefix && r.Gateway == (tcpip.Address{}) })
}

func (d *ndpDispatcher) OnAutoGenAddress(_ tcpip.NICID, a tcpip.AddressWithPrefix) stack.AddressDispatcher {
	p := netip.PrefixFrom(netipFrom(a.Address), a.PrefixLen)
	if p.Addr().IsLinkLocalUnicast() {
		return nil
	}
	d.log.Info("IPv6 address from a router advertisement (SLAAC)", "addr", p)
	s := (*Stack)(d)
	s.dyn.mu.Lock()
	if !slices.Contains(s.dyn.slaac, p) {
		s.dyn.slaac = append(s.dyn.slaac, p)
	}
	s.dyn.notifyLocked()
	s.dyn.mu.Unlock()
	return nil
}

func (d *ndpDispatcher) OnAutoGenAddressDeprecated(_ tcpip.NICID, a tcpip.AddressWithPrefix) {
	d.log.Info("SLAAC address deprecated", "addr", a)
}

func (d *ndpDispatcher) OnAutoGenAddressInvalidated(_ tcpip.NICID, a tcpip.AddressWithPrefix) {
	p := netip.PrefixFrom(netipFrom(a.Address), a.PrefixLen)
	if p.Addr().IsLinkLocalUnicast() {
		return
	}
	d.log.Warn("SLAAC address expired", "addr", p)
	s := (*Stack)(d)
	s.dyn.mu.Lock()
	s.dyn.slaac = slices.DeleteFunc(s.dyn.slaac, func(q netip.Prefix) bool { return q == p })
	s.dyn.notifyLocked()
	s.dyn.mu.Unlock()
}

func (d *ndpDispatcher) OnRecursiveDNSServerOption(_ tcpip.NICID, addrs []tcpip.Address, lifetime time.Duration) {
	var ips []netip.Addr
	for _, a := range addrs {
		ips = append(ips, netipFrom(a))
	}
	if lifetime == 0 {
		ips = nil
	}
	s := (*Stack)(d)
	s.dyn.mu.Lock()
	defer s.dyn.mu.Unlock()
	if !slices.Equal(ips, s.dyn.raDNS) {
		d.log.Info("DNS servers from a router advertisement", "dns", ips, "lifetime", lifetime)
		s.dyn.raDNS = ips
	}
}

func (d *ndpDispatcher) OnDNSSearchListOption(tcpip.NICID, []string, time.Duration) {}

func (d *ndpDispatcher) OnDHCPv6Configuration(tcpip.NICID, ipv6.DHCPv6ConfigurationFromNDPRA) {}
