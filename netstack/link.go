package netstack

import (
	"context"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// vlanTagLen is room left in receive buffers for an 802.1Q tag, so that a
// tagged frame is not cut short (the stack then ignores it whole).
const vlanTagLen = 4

// readLoop feeds frames from the link to the stack until the link fails or
// is closed.
func (s *Stack) readLoop() {
	defer s.wg.Done()
	size := s.cfg.MTU + header.EthernetMinimumSize + vlanTagLen
	for {
		// The frame is read straight into a pooled view, which the
		// packet then owns: no copy, no allocation once pools are warm.
		v := buffer.NewViewSize(size)
		n, err := s.link.Read(v.AsSlice())
		if err != nil {
			v.Release()
			if !s.isClosing(err) {
				s.log.Error("netstack: link read failed; no more frames will be received", "err", err)
			}
			return
		}
		if n == 0 {
			v.Release()
			continue
		}
		v.CapLength(n)
		s.stats.framesIn.Add(1)
		s.stats.bytesIn.Add(uint64(n))
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithView(v)})
		// The ethernet endpoint above the channel parses the header and
		// picks the network protocol, so none is given here.
		s.ep.InjectInbound(0, pkt)
		pkt.DecRef()
	}
}

// writeLoop writes the stack's outbound packets to the link, one frame each,
// until ctx is done or the channel endpoint is closed.
func (s *Stack) writeLoop(ctx context.Context) {
	defer s.wg.Done()
	frame := make([]byte, 0, s.cfg.MTU+header.EthernetMinimumSize)
	var lastErr string
	for {
		pkt := s.ep.ReadContext(ctx)
		if pkt == nil {
			return
		}
		frame = appendPacket(frame[:0], pkt)
		pkt.DecRef()
		if _, err := s.link.Write(frame); err != nil {
			if s.isClosing(err) {
				return
			}
			s.stats.writeErrors.Add(1)
			// Log each new kind of error once, not once per frame.
			if msg := err.Error(); msg != lastErr {
				lastErr = msg
				s.log.Warn("netstack: link write failed; frame dropped", "err", err)
			}
			continue
		}
		s.stats.framesOut.Add(1)
		s.stats.bytesOut.Add(uint64(len(frame)))
	}
}

// appendPacket appends the whole of pkt (link header first) to b.
func appendPacket(b []byte, pkt *stack.PacketBuffer) []byte {
	views, off := pkt.AsViewList()
	for v := views.Front(); v != nil; v = v.Next() {
		data := v.AsSlice()
		if off >= len(data) {
			off -= len(data)
			continue
		}
		b = append(b, data[off:]...)
		off = 0
	}
	return b
}
