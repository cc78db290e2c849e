package netstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// dnsPort is where DNS servers listen.
const dnsPort = 53

// newResolver returns Go's own DNS client, with every query sent over the
// Stack to the configured DNS server, whatever /etc/resolv.conf names. (It
// still reads /etc/hosts, /etc/resolv.conf's options and /etc/services, but
// opens no host socket.)
func (s *Stack) newResolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			if !s.cfg.DNS.IsValid() {
				return nil, errors.New("no DNS server configured")
			}
			server := tcpip.FullAddress{Addr: tcpip.AddrFrom4(s.cfg.DNS.As4()), Port: dnsPort}
			switch network {
			case "udp", "udp4", "udp6":
				// A *gonet.UDPConn is a net.PacketConn: the resolver
				// sends one query per datagram, with no length prefix.
				c, err := gonet.DialUDP(s.stack, nil, &server, ipv4.ProtocolNumber)
				if err != nil {
					return nil, err
				}
				return c, nil
			default: // "tcp": after a truncated answer
				c, err := gonet.DialContextTCP(ctx, s.stack, server, ipv4.ProtocolNumber)
				if err != nil {
					return nil, err
				}
				return c, nil
			}
		},
	}
}

// lookup returns the IPv4 addresses of host: itself if it is an IP address,
// the Stack's own address if it is empty, else the DNS server's A records.
func (s *Stack) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if host == "" {
		return []netip.Addr{s.cfg.Addr.Addr()}, nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		ip, err := parseIPv4(host)
		if err != nil {
			return nil, err
		}
		return []netip.Addr{ip}, nil
	}
	if !s.cfg.DNS.IsValid() {
		return nil, fmt.Errorf("cannot resolve %s: no DNS server configured", host)
	}
	ips, err := s.resolver.LookupNetIP(ctx, "ip4", host)
	if err != nil {
		return nil, err
	}
	out := ips[:0]
	for _, ip := range ips {
		if ip = ip.Unmap(); ip.Is4() {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no IPv4 address", host)
	}
	return out, nil
}
