package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
)

// tapNetConfig is how the userspace stack of TAP mode gets its addresses.
type tapNetConfig struct {
	ipv4     netip.Prefix
	gateway  netip.Addr
	ipv6     netip.Prefix
	gateway6 netip.Addr
	dhcp     bool
	acceptRA bool
	dns      netip.Addr

	raw struct{ ipv4, gateway, ipv6, gateway6, dns string }
}

// addFlags declares the TAP stack's network flags.
func (n *tapNetConfig) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&n.raw.ipv4, "ipv4", "", "the stack's static IPv4 address and prefix in TAP mode (e.g. 10.0.0.3/24)")
	fs.StringVar(&n.raw.gateway, "ipv4-gateway", "", "the IPv4 default gateway in TAP mode (e.g. 10.0.0.1)")
	fs.StringVar(&n.raw.ipv6, "ipv6", "", "the stack's static IPv6 address and prefix in TAP mode (e.g. fd00::3/64)")
	fs.StringVar(&n.raw.gateway6, "ipv6-gateway", "", "the IPv6 default gateway in TAP mode (e.g. fd00::1 or fe80::1)")
	fs.BoolVar(&n.dhcp, "dhcp", false, "lease the IPv4 address, gateway and DNS server by DHCP in TAP mode, renewed while pasteur runs (not with --ipv4)")
	fs.BoolVar(&n.acceptRA, "accept-router-advertisements", false, "take IPv6 addresses (SLAAC, stable across restarts), routes and DNS servers from router advertisements in TAP mode")
	fs.StringVar(&n.raw.dns, "dns-server", "", "DNS server `IP` (IPv4 or IPv6) that resolves host names in TAP mode (default: the DHCP lease's, else an advertised one, else the gateway)")
}

// set reports whether any of the flags was given.
func (n *tapNetConfig) set() bool {
	r := n.raw
	return r.ipv4 != "" || r.gateway != "" || r.ipv6 != "" || r.gateway6 != "" || r.dns != "" || n.dhcp || n.acceptRA
}

// check parses the flags' values and checks them against each other and
// --tap.
func (n *tapNetConfig) check(tap string) error {
	r := n.raw
	var err error
	if r.ipv4 != "" {
		if n.ipv4, err = netip.ParsePrefix(r.ipv4); err != nil || !n.ipv4.Addr().Is4() {
			return fmt.Errorf("--ipv4 %q: want an IPv4 address with its prefix length, like 10.0.0.3/24", r.ipv4)
		}
	}
	if r.gateway != "" {
		if n.gateway, err = netip.ParseAddr(r.gateway); err != nil || !n.gateway.Is4() {
			return fmt.Errorf("--ipv4-gateway %q: want an IPv4 address, like 10.0.0.1", r.gateway)
		}
		if !n.ipv4.IsValid() {
			return errors.New("--ipv4-gateway needs --ipv4 (with --dhcp, the lease names the gateway)")
		}
		if !n.ipv4.Masked().Contains(n.gateway) {
			return fmt.Errorf("--ipv4-gateway %s is outside --ipv4 %s", n.gateway, n.ipv4)
		}
	}
	if r.ipv6 != "" {
		if n.ipv6, err = netip.ParsePrefix(r.ipv6); err != nil || !n.ipv6.Addr().Is6() || n.ipv6.Addr().Is4In6() || n.ipv6.Addr().Zone() != "" {
			return fmt.Errorf("--ipv6 %q: want an IPv6 address with its prefix length, like fd00::3/64", r.ipv6)
		}
		if !n.ipv6.Addr().IsGlobalUnicast() {
			return fmt.Errorf("--ipv6 %s: want a global or unique local unicast address", n.ipv6)
		}
	}
	if r.gateway6 != "" {
		if n.gateway6, err = netip.ParseAddr(r.gateway6); err != nil || !n.gateway6.Is6() || n.gateway6.Is4In6() || n.gateway6.Zone() != "" {
			return fmt.Errorf("--ipv6-gateway %q: want an IPv6 address, like fd00::1 or fe80::1", r.gateway6)
		}
		if !n.ipv6.IsValid() {
			return errors.New("--ipv6-gateway needs --ipv6 (with --accept-router-advertisements, the router is found)")
		}
		if !n.gateway6.IsLinkLocalUnicast() && !n.ipv6.Masked().Contains(n.gateway6) {
			return fmt.Errorf("--ipv6-gateway %s is outside --ipv6 %s (a link-local fe80:: address works too)", n.gateway6, n.ipv6)
		}
	}
	if r.dns != "" {
		if n.dns, err = netip.ParseAddr(r.dns); err != nil || n.dns.Is4In6() || n.dns.Zone() != "" {
			return fmt.Errorf("--dns-server %q: want an IPv4 or IPv6 address", r.dns)
		}
	}
	switch {
	case tap == "" && n.set():
		return errors.New("--ipv4, --ipv6, their gateways, --dhcp, --accept-router-advertisements and --dns-server configure the TAP stack: add --tap")
	case tap != "" && !n.ipv4.IsValid() && !n.ipv6.IsValid() && !n.dhcp && !n.acceptRA:
		return errors.New("--tap needs --ipv4 (e.g. --ipv4 10.0.0.3/24), --ipv6, --dhcp or --accept-router-advertisements")
	case n.ipv4.IsValid() && n.dhcp:
		return errors.New("--ipv4 and --dhcp exclude each other: a static address or a leased one")
	}
	return nil
}
