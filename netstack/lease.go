package netstack

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Defaults and bounds of a lease's times.
const (
	defaultLease = time.Hour        // when the server names none
	minLease     = 10 * time.Second // shorter leases are stretched to this
)

// lease is what a DHCP server gave: an address, a gateway and DNS servers,
// for a time.
type lease struct {
	addr     netip.Prefix // the address and its subnet
	router   netip.Addr   // zero when the server named none
	dns      []netip.Addr
	server   netip.Addr // the server identifier, where renewals go
	duration time.Duration
	t1, t2   time.Duration // renewal and rebinding times, from got
	got      time.Time
	ack      *dhcpv4.DHCPv4 // the message the lease came in, for renewals
}

// leaseFrom reads a lease from a server's OFFER or ACK, checking what the
// Stack will rely on: a unicast IPv4 address, a contiguous subnet mask, a
// server identifier, and times in order.
func leaseFrom(m *dhcpv4.DHCPv4) (lease, error) {
	ip, ok := netip.AddrFromSlice(m.YourIPAddr)
	if ip = ip.Unmap(); !ok || !ip.Is4() || !ip.IsGlobalUnicast() && !ip.IsPrivate() {
		return lease{}, fmt.Errorf("address %v is not a unicast IPv4 address", m.YourIPAddr)
	}
	bits := 32
	if mask := m.SubnetMask(); mask != nil {
		ones, size := mask.Size()
		if size != 32 || ones == 0 {
			return lease{}, fmt.Errorf("subnet mask %v is not an IPv4 mask", mask)
		}
		bits = ones
	}
	l := lease{addr: netip.PrefixFrom(ip, bits), got: time.Now(), ack: m}
	server, ok := netip.AddrFromSlice(m.ServerIdentifier())
	if server = server.Unmap(); !ok || !server.Is4() || server.IsUnspecified() {
		return lease{}, errors.New("no server identifier")
	}
	l.server = server
	for _, r := range m.Router() {
		if gw, ok := netip.AddrFromSlice(r); ok && gw.Unmap().Is4() && !gw.Unmap().IsUnspecified() {
			l.router = gw.Unmap()
			break
		}
	}
	for _, d := range m.DNS() {
		if ns, ok := netip.AddrFromSlice(d); ok && ns.Unmap().Is4() && !ns.Unmap().IsUnspecified() {
			l.dns = append(l.dns, ns.Unmap())
		}
	}
	l.duration = max(m.IPAddressLeaseTime(defaultLease), minLease)
	l.t1 = m.IPAddressRenewalTime(l.duration / 2)
	l.t2 = m.IPAddressRebindingTime(l.duration / 8 * 7)
	if l.t2 <= 0 || l.t2 > l.duration {
		l.t2 = l.duration / 8 * 7
	}
	if l.t1 <= 0 || l.t1 > l.t2 {
		l.t1 = l.t2 / 7 * 4
	}
	return l, nil
}
