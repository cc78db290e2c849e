package netstack

import (
	"encoding/binary"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// gVisor's TCP acknowledges every batch of segments it receives at once
// with a segment of its own; it has no delayed ACK. For a request that the
// application answers a few microseconds later, that is a second frame per
// request: the answer acknowledges the request again. The link writer
// therefore holds such bare acknowledgements back for a little while and
// drops one when a later segment of the same connection, which carries the
// same or a newer acknowledgement and window, goes out before it. This is
// the delayed ACK of RFC 1122 section 4.2.3.2, done below the stack:
//
//   - only a bare ACK is held: no data, no flag but ACK, no SACK blocks
//     (those report loss and go out at once);
//   - a second bare ACK of the connection while one is held goes out at
//     once (at least every second acknowledgement is sent, as a receiver
//     of a bulk transfer must), and the held one with it if both
//     acknowledge the same byte (duplicate ACKs keep their count);
//   - none waits longer than ackDelay.

// ackDelay is the longest a bare ACK waits for a segment to ride on: well
// above the time to answer a request from memory, far below the 200 ms a
// peer waits before retransmitting (and the 40 ms of Linux's own delayed
// ACK).
const ackDelay = time.Millisecond

// maxHeldAcks bounds the connections with an ACK held at once; beyond it
// the oldest goes out.
const maxHeldAcks = 64

// flowKey names one direction of a TCP connection: addresses and ports as
// they appear in the headers.
type flowKey struct {
	addrs [32]byte
	ports uint32
}

// heldAck is a bare ACK waiting in ackHold.
type heldAck struct {
	key      flowKey
	ack      uint32
	pkt      *stack.PacketBuffer
	deadline time.Time
}

// ackHold is the link writer's set of held ACKs, oldest first, under the
// endpoint's write lock.
type ackHold struct {
	held  []heldAck
	timer *time.Timer
	armed bool
	due   chan struct{} // a token when the timer went off
}

// outbound is what ackHold needs to know of an outbound packet.
type outbound struct {
	tcp  bool    // a TCP segment; the other fields are only set then
	key  flowKey // its connection
	ack  uint32  // its acknowledgement number
	bare bool    // a bare ACK that may be held
}

// classify parses pkt's IP and TCP headers.
func classify(pkt *stack.PacketBuffer) outbound {
	var o outbound
	if pkt.TransportProtocolNumber != header.TCPProtocolNumber {
		return o
	}
	ip, th := pkt.NetworkHeader().Slice(), header.TCP(pkt.TransportHeader().Slice())
	if len(th) < header.TCPMinimumSize {
		return o
	}
	switch len(ip) {
	case header.IPv4MinimumSize:
		copy(o.key.addrs[:], ip[12:20])
	case header.IPv6MinimumSize:
		copy(o.key.addrs[:], ip[8:40])
	default:
		return o // IPv4 options or IPv6 extension headers: not ours to judge
	}
	o.tcp = true
	o.key.ports = binary.BigEndian.Uint32(th[:4])
	o.ack = th.AckNumber()
	o.bare = th.Flags() == header.TCPFlagAck && pkt.Data().Size() == 0 && !hasSACK(th)
	return o
}

// hasSACK reports whether the options of TCP header th carry SACK blocks.
func hasSACK(th header.TCP) bool {
	off := int(th.DataOffset())
	if off > len(th) || off < header.TCPMinimumSize {
		return true // malformed: do not hold it
	}
	opts := th[header.TCPMinimumSize:off]
	for i := 0; i < len(opts); {
		switch opts[i] {
		case header.TCPOptionEOL:
			return false
		case header.TCPOptionNOP:
			i++
			continue
		case header.TCPOptionSACK:
			return true
		}
		if i+1 >= len(opts) || opts[i+1] < 2 {
			return true
		}
		i += int(opts[i+1])
	}
	return false
}

// find returns the index of the ACK held for key, or -1.
func (h *ackHold) find(key flowKey) int {
	for i := range h.held {
		if h.held[i].key == key {
			return i
		}
	}
	return -1
}

// remove takes the i'th held ACK out and returns its packet.
func (h *ackHold) remove(i int) *stack.PacketBuffer {
	pkt := h.held[i].pkt
	copy(h.held[i:], h.held[i+1:])
	h.held[len(h.held)-1] = heldAck{}
	h.held = h.held[:len(h.held)-1]
	return pkt
}

// arm makes sure the timer goes off when the oldest held ACK is due.
func (h *ackHold) arm() {
	if h.armed || len(h.held) == 0 {
		return
	}
	d := time.Until(h.held[0].deadline)
	if h.timer == nil {
		h.timer = time.AfterFunc(d, func() { wake(h.due) })
	} else {
		h.timer.Reset(d)
	}
	h.armed = true
}
