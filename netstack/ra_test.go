package netstack

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/checksum"
)

// routerAdvert returns an Ethernet frame with a router advertisement from
// fe80::1 (MAC mac) to all nodes: default router for 1800 s, prefix
// fd00::/64 on-link and autonomous, DNS server dns.
func routerAdvert(mac net.HardwareAddr, dns netip.Addr) []byte {
	src := netip.MustParseAddr("fe80::1").As16()
	dst := netip.MustParseAddr("ff02::1").As16()
	icmp := []byte{134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0} // router lifetime 1800
	icmp = append(icmp, 1, 1)                                               // source link-layer address
	icmp = append(icmp, mac...)
	icmp = append(icmp, 3, 4, 64, 0xc0) // prefix information: /64, on-link, autonomous
	icmp = binary.BigEndian.AppendUint32(icmp, 86400)
	icmp = binary.BigEndian.AppendUint32(icmp, 14400)
	icmp = append(icmp, 0, 0, 0, 0)
	prefix := netip.MustParseAddr("fd00::").As16()
	icmp = append(icmp, prefix[:]...)
	icmp = append(icmp, 25, 3, 0, 0) // recursive DNS server
	icmp = binary.BigEndian.AppendUint32(icmp, 600)
	d := dns.As16()
	icmp = append(icmp, d[:]...)

	pseudo := append(append(src[:], dst[:]...), 0, 0, 0, 0, 0, 0, 0, 58)
	binary.BigEndian.PutUint32(pseudo[32:], uint32(len(icmp)))
	sum := checksum.Checksum(icmp, checksum.Checksum(pseudo, 0))
	binary.BigEndian.PutUint16(icmp[2:], ^sum)

	ip := []byte{0x60, 0, 0, 0, 0, 0, 58, 255}
	binary.BigEndian.PutUint16(ip[4:], uint16(len(icmp)))
	ip = append(append(append(ip, src[:]...), dst[:]...), icmp...)
	eth := append([]byte{0x33, 0x33, 0, 0, 0, 1}, mac...)
	return append(append(eth, 0x86, 0xdd), ip...)
}

// TestRouterAdvertisement: a Stack with AcceptRA takes a SLAAC address
// (EUI-64 of its MAC), the default route and the DNS server from a router
// advertisement.
func TestRouterAdvertisement(t *testing.T) {
	router, lb := framePipe(false)
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x42}
	b, err := New(lb, Config{AcceptRA: true, MAC: mac})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	go func() { // what b sends (solicitations, DAD) goes nowhere
		for {
			if _, err := router.Read(make([]byte, 2048)); err != nil {
				return
			}
		}
	}()
	dns := netip.MustParseAddr("fd00::53")
	if _, err := router.Write(routerAdvert(net.HardwareAddr{0x02, 0, 0, 0, 0, 1}, dns)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.WaitAddresses(ctx); err != nil {
		t.Fatal(err)
	}
	want := netip.MustParseAddr("fd00::ff:fe00:42") // 02:00:00:00:00:42 -> 0000:00ff:fe00:0042
	if got := b.Addrs(); !slices.Equal(got, []netip.Addr{want}) {
		t.Errorf("addresses %v, want [%v]", got, want)
	}
	if got := b.dnsServers(); !slices.Contains(got, dns) {
		t.Errorf("DNS servers %v, want %v among them", got, dns)
	}
	var defaultVia string
	for _, r := range b.stack.GetRouteTable() {
		if r.Destination.Prefix() == 0 {
			defaultVia = r.Gateway.String()
		}
	}
	if defaultVia != "fe80::1" {
		t.Errorf("default route via %q, want fe80::1", defaultVia)
	}
}
