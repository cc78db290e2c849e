package netstack

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The virtio-net header (struct virtio_net_hdr, linux/virtio_net.h) that
// precedes each frame on a TAP device opened with IFF_VNET_HDR: 10 bytes,
// little-endian.
const (
	vnetHdrLen = 10

	vnetFlagNeedsCsum = 1 // the L4 checksum is partial: csum_start/offset say where
	vnetFlagDataValid = 2 // the kernel checked the checksum

	vnetGSONone  = 0
	vnetGSOTCPv4 = 1
	vnetGSOTCPv6 = 4
)

// putVnetHdr writes into h the virtio-net header for pkt: checksum
// completion and segmentation as gVisor's GSO options for it ask.
func putVnetHdr(h []byte, pkt *stack.PacketBuffer) {
	clear(h[:vnetHdrLen])
	gso := pkt.GSOOptions
	if gso.Type == stack.GSONone || gso.Type == stack.GSOGvisor {
		return
	}
	binary.LittleEndian.PutUint16(h[2:], uint16(pkt.HeaderSize())) // hdr_len
	if gso.NeedsCsum {
		h[0] = vnetFlagNeedsCsum
		binary.LittleEndian.PutUint16(h[6:], header.EthernetMinimumSize+gso.L3HdrLen) // csum_start
		binary.LittleEndian.PutUint16(h[8:], gso.CsumOffset)                          // csum_offset
	}
	if pkt.Data().Size() > int(gso.MSS) {
		switch gso.Type {
		case stack.GSOTCPv4:
			h[1] = vnetGSOTCPv4
		case stack.GSOTCPv6:
			h[1] = vnetGSOTCPv6
		}
		binary.LittleEndian.PutUint16(h[4:], gso.MSS) // gso_size
	}
}

// checkInbound reports whether an inbound frame with virtio-net header h
// may go to a stack that trusts checksums (CapabilityRXChecksumOffload):
// for IPv4, the header checksum must hold; for IPv4 and IPv6, the TCP or
// UDP checksum too, unless the kernel vouches for it (NEEDS_CSUM: it is
// partial and the kernel's own; DATA_VALID: the kernel checked it). Other
// frames (ARP) and protocols (ICMP, ICMPv6: the stack checks those itself)
// pass as they are. Unchecked by the stack, a frame that fails here is
// dropped.
func checkInbound(h, frame []byte) bool {
	if len(frame) < header.EthernetMinimumSize {
		return false
	}
	vouched := h[0]&(vnetFlagNeedsCsum|vnetFlagDataValid) != 0
	switch header.Ethernet(frame).Type() {
	case header.IPv4ProtocolNumber:
		return checkIPv4(frame[header.EthernetMinimumSize:], vouched)
	case header.IPv6ProtocolNumber:
		return checkIPv6(frame[header.EthernetMinimumSize:], vouched)
	}
	return true
}

// checkIPv4 checks an IPv4 packet for checkInbound.
func checkIPv4(ip header.IPv4, vouched bool) bool {
	if !ip.IsValid(len(ip)) || !ip.IsChecksumValid() {
		return false
	}
	if vouched {
		return true
	}
	if ip.More() || ip.FragmentOffset() != 0 {
		// A fragment's transport checksum covers the reassembled packet,
		// which the stack then trusts: a known gap, for fragments only.
		return true
	}
	payload := ip[ip.HeaderLength():ip.TotalLength()]
	return checkTransport(ip.TransportProtocol(), ip.SourceAddress(), ip.DestinationAddress(), payload, false)
}

// checkIPv6 checks an IPv6 packet for checkInbound, past its hop-by-hop,
// routing and destination options headers.
func checkIPv6(ip header.IPv6, vouched bool) bool {
	if !ip.IsValid(len(ip)) {
		return false
	}
	if vouched {
		return true
	}
	next := ip.NextHeader()
	rest := ip[header.IPv6MinimumSize : header.IPv6MinimumSize+int(ip.PayloadLength())]
	for {
		switch next {
		case uint8(header.IPv6HopByHopOptionsExtHdrIdentifier), uint8(header.IPv6RoutingExtHdrIdentifier),
			uint8(header.IPv6DestinationOptionsExtHdrIdentifier):
			if len(rest) < 8 || len(rest) < (int(rest[1])+1)*8 {
				return false
			}
			next, rest = rest[0], rest[(int(rest[1])+1)*8:]
		case uint8(header.IPv6FragmentExtHdrIdentifier):
			return true // as for IPv4 fragments
		default:
			return checkTransport(tcpip.TransportProtocolNumber(next), ip.SourceAddress(), ip.DestinationAddress(), rest, true)
		}
	}
}

// checkTransport checks the TCP or UDP checksum of payload; other
// protocols pass. A UDP datagram without a checksum passes over IPv4 only.
func checkTransport(proto tcpip.TransportProtocolNumber, src, dst tcpip.Address, payload []byte, v6 bool) bool {
	switch proto {
	case header.TCPProtocolNumber:
		if len(payload) < header.TCPMinimumSize {
			return false
		}
	case header.UDPProtocolNumber:
		if len(payload) < header.UDPMinimumSize {
			return false
		}
		if header.UDP(payload).Checksum() == 0 {
			return !v6 // IPv4: no checksum; IPv6: one is required
		}
	default:
		return true // ICMP and others carry their own, checked by the stack
	}
	xsum := header.PseudoHeaderChecksum(proto, src, dst, uint16(len(payload)))
	return checksum.Checksum(payload, xsum) == 0xffff
}
