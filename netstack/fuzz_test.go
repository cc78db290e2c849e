package netstack

import (
	"net"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"golang.org/x/net/dns/dnsmessage"
)

// FuzzParseAnswer feeds DNS answers to the resolver's parser: no panic, and
// every address it returns is of the type asked.
func FuzzParseAnswer(f *testing.F) {
	name := dnsmessage.MustNewName("name.test.")
	for _, t := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
		q := dnsmessage.Question{Name: name, Type: t, Class: dnsmessage.ClassINET}
		m := dnsmessage.Message{
			Header:    dnsmessage.Header{ID: 7, Response: true},
			Questions: []dnsmessage.Question{q},
			Answers: []dnsmessage.Resource{
				{Header: dnsmessage.ResourceHeader{Name: name, Type: dnsmessage.TypeCNAME, Class: dnsmessage.ClassINET},
					Body: &dnsmessage.CNAMEResource{CNAME: name}},
				{Header: dnsmessage.ResourceHeader{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET},
					Body: &dnsmessage.AResource{A: [4]byte{10, 0, 0, 1}}},
				{Header: dnsmessage.ResourceHeader{Name: name, Type: dnsmessage.TypeAAAA, Class: dnsmessage.ClassINET},
					Body: &dnsmessage.AAAAResource{AAAA: [16]byte{0xfd, 15: 1}}},
			},
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, t == dnsmessage.TypeAAAA)
		m.Header.RCode = dnsmessage.RCodeNameError
		m.Answers = nil
		b, _ = m.Pack()
		f.Add(b, t == dnsmessage.TypeAAAA)
	}
	f.Add([]byte{0, 7, 0x82, 0}, false) // truncated header
	f.Fuzz(func(t *testing.T, b []byte, aaaa bool) {
		q := dnsmessage.Question{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
		if aaaa {
			q.Type = dnsmessage.TypeAAAA
		}
		ips, _, err := parseAnswer(b, 7, q)
		if err != nil && len(ips) > 0 {
			t.Fatalf("addresses %v with error %v", ips, err)
		}
		for _, ip := range ips {
			if ip.Is4() == aaaa || ip.Is4In6() {
				t.Fatalf("address %v for a %v question", ip, q.Type)
			}
		}
	})
}

// FuzzLease feeds DHCP messages to the lease reader: no panic, and a lease
// it accepts has what the Stack relies on.
func FuzzLease(f *testing.F) {
	ack, err := dhcpv4.New(
		dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithYourIP(net.IPv4(10, 0, 0, 50)),
		dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
		dhcpv4.WithRouter(net.IPv4(10, 0, 0, 1)),
		dhcpv4.WithDNS(net.IPv4(10, 0, 0, 1)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 0, 1))),
		dhcpv4.WithLeaseTime(3600),
		dhcpv4.WithOption(dhcpv4.OptRenewTimeValue(time.Hour)),
	)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ack.ToBytes())
	ack.UpdateOption(dhcpv4.OptSubnetMask(net.IPv4Mask(255, 0, 255, 0)))
	f.Add(ack.ToBytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		l, err := leaseFrom(m)
		if err != nil {
			return
		}
		if !l.addr.Addr().Is4() || !l.server.Is4() || l.router.IsValid() && !l.router.Is4() {
			t.Fatalf("lease %+v: not IPv4", l)
		}
		if !(0 < l.t1 && l.t1 <= l.t2 && l.t2 <= l.duration && l.duration >= minLease) {
			t.Fatalf("lease times out of order: t1 %v t2 %v lease %v", l.t1, l.t2, l.duration)
		}
		for _, d := range l.dns {
			if !d.Is4() {
				t.Fatalf("DNS server %v", d)
			}
		}
	})
}
