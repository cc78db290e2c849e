package netstack

import (
	"encoding/binary"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// ipv6Frame returns an Ethernet frame holding an IPv6 packet from fd00::3
// to fd00::1 whose payload is exts (extension headers, the first of type
// first) and then a transport header of protocol proto with a correct
// checksum, unless bad.
func ipv6Frame(first uint8, exts []byte, proto tcpip.TransportProtocolNumber, bad bool) []byte {
	src := tcpip.AddrFrom16([16]byte{0xfd, 15: 3})
	dst := tcpip.AddrFrom16([16]byte{0xfd, 15: 1})
	var l4 []byte
	switch proto {
	case header.TCPProtocolNumber:
		l4 = make([]byte, header.TCPMinimumSize+4)
		header.TCP(l4).Encode(&header.TCPFields{SrcPort: 1, DstPort: 2, DataOffset: header.TCPMinimumSize, Flags: header.TCPFlagSyn})
		copy(l4[header.TCPMinimumSize:], "data")
		sum := checksum.Checksum(l4, header.PseudoHeaderChecksum(proto, src, dst, uint16(len(l4))))
		header.TCP(l4).SetChecksum(^sum)
	case header.UDPProtocolNumber:
		l4 = make([]byte, header.UDPMinimumSize+4)
		header.UDP(l4).Encode(&header.UDPFields{SrcPort: 1, DstPort: 2, Length: uint16(len(l4))})
		sum := checksum.Checksum(l4, header.PseudoHeaderChecksum(proto, src, dst, uint16(len(l4))))
		header.UDP(l4).SetChecksum(^sum)
	}
	if bad {
		l4[len(l4)-1] ^= 0xff
	}
	payload := append(append([]byte(nil), exts...), l4...)
	ip := make([]byte, header.IPv6MinimumSize)
	next := uint8(proto)
	if exts != nil {
		next = first
	}
	header.IPv6(ip).Encode(&header.IPv6Fields{PayloadLength: uint16(len(payload)), TransportProtocol: tcpip.TransportProtocolNumber(next),
		HopLimit: 64, SrcAddr: src, DstAddr: dst})
	eth := make([]byte, header.EthernetMinimumSize)
	binary.BigEndian.PutUint16(eth[12:], uint16(header.IPv6ProtocolNumber))
	return append(append(eth, ip...), payload...)
}

func TestCheckInboundIPv6(t *testing.T) {
	hbh := []byte{uint8(header.TCPProtocolNumber), 0, 1, 4, 0, 0, 0, 0} // hop-by-hop with PadN, then TCP
	frag := []byte{uint8(header.TCPProtocolNumber), 0, 0, 1, 0, 0, 0, 1}
	zeroUDP := ipv6Frame(0, nil, header.UDPProtocolNumber, false)
	zeroUDP[len(zeroUDP)-6], zeroUDP[len(zeroUDP)-5] = 0, 0 // the UDP checksum
	tests := []struct {
		name    string
		frame   []byte
		vouched bool
		want    bool
	}{
		{"TCP", ipv6Frame(0, nil, header.TCPProtocolNumber, false), false, true},
		{"bad TCP", ipv6Frame(0, nil, header.TCPProtocolNumber, true), false, false},
		{"bad TCP, kernel vouches", ipv6Frame(0, nil, header.TCPProtocolNumber, true), true, true},
		{"UDP", ipv6Frame(0, nil, header.UDPProtocolNumber, false), false, true},
		{"bad UDP", ipv6Frame(0, nil, header.UDPProtocolNumber, true), false, false},
		{"UDP without checksum", zeroUDP, false, false},
		{"hop-by-hop, TCP", ipv6Frame(uint8(header.IPv6HopByHopOptionsExtHdrIdentifier), hbh, header.TCPProtocolNumber, false), false, true},
		{"hop-by-hop, bad TCP", ipv6Frame(uint8(header.IPv6HopByHopOptionsExtHdrIdentifier), hbh, header.TCPProtocolNumber, true), false, false},
		{"fragment", ipv6Frame(uint8(header.IPv6FragmentExtHdrIdentifier), frag, header.TCPProtocolNumber, true), false, true},
		{"truncated", ipv6Frame(0, nil, header.TCPProtocolNumber, false)[:header.EthernetMinimumSize+30], false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := make([]byte, vnetHdrLen)
			if tt.vouched {
				h[0] = vnetFlagDataValid
			}
			if got := checkInbound(h, tt.frame); got != tt.want {
				t.Errorf("checkInbound = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzCheckInbound: no frame makes the inbound check panic.
func FuzzCheckInbound(f *testing.F) {
	f.Add(ipv6Frame(0, nil, header.TCPProtocolNumber, false), false)
	f.Add(ipv6Frame(uint8(header.IPv6HopByHopOptionsExtHdrIdentifier), []byte{6, 0, 1, 4, 0, 0, 0, 0}, header.TCPProtocolNumber, false), false)
	f.Add(ipv6Frame(0, nil, header.UDPProtocolNumber, true), true)
	f.Fuzz(func(t *testing.T, frame []byte, vouched bool) {
		h := make([]byte, vnetHdrLen)
		if vouched {
			h[0] = vnetFlagNeedsCsum
		}
		checkInbound(h, frame)
	})
}
