package netstack

import (
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Link is the Ethernet device a Stack runs on, such as a *tap.Device. Its
// methods may be called concurrently; Close unblocks Read and Writev.
type Link interface {
	// Read reads one whole frame into p and returns its length. It
	// blocks until a frame arrives, and fails once the link is closed.
	Read(p []byte) (int, error)

	// Writev sends the concatenation of bufs as one frame. It may block
	// while the device is busy: the Stack then waits rather than drops.
	Writev(bufs [][]byte) (int, error)

	// VnetHdr reports whether every frame read or written starts with a
	// virtio-net header (IFF_VNET_HDR with TUNSETOFFLOAD checksum and
	// TSO): the Stack then writes TCP segments of up to 64 KiB with a
	// partial checksum, and accepts the same.
	VnetHdr() bool

	// Close closes the device.
	Close() error
}

// vlanTagLen is room left in receive buffers for an 802.1Q tag, so that a
// tagged frame is not cut short (the stack then ignores it whole).
const vlanTagLen = 4

// gsoMaxSize is the largest TCP segment the Stack hands a link with
// offloads, headers included: what fits an IPv4 packet.
const gsoMaxSize = 1 << 16

// queueLen is how many outbound frames may wait for the link writer. When
// the queue is full, senders wait: nothing is dropped.
const queueLen = 256

// endpoint is the stack.LinkEndpoint between gVisor and a Link: whole
// Ethernet frames (ethernet.Endpoint above it adds and strips the header).
// A sender writes its packets itself when none are queued or being
// written (no wake-up of another goroutine); otherwise they go through a
// queue to one writer goroutine, and a sender waits only when the queue is
// full. Frames never overtake queued ones. Bare ACKs are held back as
// ackHold describes.
type endpoint struct {
	link Link
	vnet bool
	mtu  uint32 // frame MTU: the IP MTU plus the Ethernet header
	addr tcpip.LinkAddress
	s    *Stack

	queue   chan *stack.PacketBuffer // closed by closeQueue, after qclosed is set
	quit    chan struct{}            // closed first when the Stack closes: senders stop waiting
	qmu     sync.RWMutex             // senders hold it for reading while they queue
	qclosed bool
	written chan struct{} // closed when writeLoop has written all it could
	pending atomic.Int64  // packets queued and not yet written

	// wmu is held while a frame is written, by writeLoop or by a sender
	// that found the queue empty; it guards what follows.
	wmu  sync.Mutex
	hold ackHold

	mu         sync.RWMutex
	dispatcher stack.NetworkDispatcher

	// The writer's scratch space, reused for every frame.
	hdr  [vnetHdrLen]byte
	bufs [][]byte
}

var (
	_ stack.LinkEndpoint = (*endpoint)(nil)
	_ stack.GSOEndpoint  = (*endpoint)(nil)
)

func (e *endpoint) MTU() uint32                        { return e.mtu }
func (e *endpoint) SetMTU(mtu uint32)                  { e.mtu = mtu }
func (e *endpoint) MaxHeaderLength() uint16            { return 0 }
func (e *endpoint) LinkAddress() tcpip.LinkAddress     { return e.addr }
func (e *endpoint) SetLinkAddress(a tcpip.LinkAddress) { e.addr = a }
func (e *endpoint) Wait()                              {}
func (e *endpoint) ARPHardwareType() header.ARPHardwareType {
	return header.ARPHardwareNone
}
func (e *endpoint) AddHeader(*stack.PacketBuffer)        {}
func (e *endpoint) ParseHeader(*stack.PacketBuffer) bool { return true }
func (e *endpoint) Close()                               {}
func (e *endpoint) SetOnCloseAction(func())              {}

// Capabilities: with a virtio-net header, readLoop checks (or the kernel
// vouches for) every checksum before the stack sees the packet.
func (e *endpoint) Capabilities() stack.LinkEndpointCapabilities {
	if e.vnet {
		return stack.CapabilityRXChecksumOffload
	}
	return 0
}

// GSOMaxSize implements stack.GSOEndpoint.
func (e *endpoint) GSOMaxSize() uint32 {
	if e.vnet {
		return gsoMaxSize
	}
	return 0
}

// SupportedGSO implements stack.GSOEndpoint: the device segments TCP when
// it takes virtio-net headers.
func (e *endpoint) SupportedGSO() stack.SupportedGSO {
	if e.vnet {
		return stack.HostGSOSupported
	}
	return stack.GSONotSupported
}

func (e *endpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	e.dispatcher = d
	e.mu.Unlock()
}

func (e *endpoint) IsAttached() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.dispatcher != nil
}

// WritePackets queues each packet for the writer goroutine, waiting while
// the queue is full.
func (e *endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	e.qmu.RLock()
	defer e.qmu.RUnlock()
	if e.qclosed {
		return 0, &tcpip.ErrClosedForSend{}
	}
	// With nothing queued, the sender writes its packets itself: frames
	// cannot overtake queued ones, and the writer is not woken.
	if e.pending.Load() == 0 && e.wmu.TryLock() {
		if e.pending.Load() == 0 {
			for _, pkt := range pkts.AsSlice() {
				pkt.IncRef()
				e.send(pkt)
			}
			e.wmu.Unlock()
			return pkts.Len(), nil
		}
		e.wmu.Unlock()
	}
	n := 0
	for _, pkt := range pkts.AsSlice() {
		pkt.IncRef()
		e.pending.Add(1)
		select {
		case e.queue <- pkt:
			n++
		case <-e.quit:
			e.pending.Add(-1)
			pkt.DecRef()
			if n == 0 {
				return 0, &tcpip.ErrClosedForSend{}
			}
			return n, nil
		}
	}
	return n, nil
}

// closeQueue ends writeLoop once it has written what is queued (resets of
// the connections the Stack aborted), or after timeout if the link is stuck.
func (e *endpoint) closeQueue(timeout time.Duration) {
	close(e.quit)
	e.qmu.Lock()
	e.qclosed = true
	e.qmu.Unlock()
	close(e.queue)
	select {
	case <-e.written:
	case <-time.After(timeout):
	}
}

// writeLoop writes queued packets to the link until the queue is closed,
// and the held ACKs as they fall due (see ackHold).
func (e *endpoint) writeLoop() {
	defer e.s.wg.Done()
	defer close(e.written)
	for {
		select {
		case pkt, ok := <-e.queue:
			e.wmu.Lock()
			if !ok {
				e.writeDue(time.Time{})
				e.wmu.Unlock()
				return
			}
			e.send(pkt)
			e.pending.Add(-1)
			e.wmu.Unlock()
		case <-e.hold.due:
			e.wmu.Lock()
			e.hold.armed = false
			e.writeDue(time.Now())
			e.hold.arm()
			e.wmu.Unlock()
		}
	}
}

// send writes pkt, or holds it if it is a bare ACK, and drops or writes
// the ACK held for its connection, which pkt supersedes. The caller holds
// wmu.
func (e *endpoint) send(pkt *stack.PacketBuffer) {
	h := &e.hold
	o := classify(pkt)
	if o.tcp {
		if i := h.find(o.key); i >= 0 {
			dup := o.bare && h.held[i].ack == o.ack
			held := h.remove(i)
			if dup {
				// A duplicate ACK, or a window update: the peer
				// counts the first, and the second may say more.
				e.writePacket(held)
			}
			held.DecRef()
		} else if o.bare {
			if len(h.held) == maxHeldAcks {
				old := h.remove(0)
				e.writePacket(old)
				old.DecRef()
			}
			h.held = append(h.held, heldAck{key: o.key, ack: o.ack, pkt: pkt, deadline: time.Now().Add(ackDelay)})
			h.arm()
			return
		}
	}
	e.writePacket(pkt)
	pkt.DecRef()
}

// writeDue writes the held ACKs that are due at now; all of them if now is
// zero. The caller holds wmu.
func (e *endpoint) writeDue(now time.Time) {
	h := &e.hold
	for len(h.held) > 0 && (now.IsZero() || !h.held[0].deadline.After(now)) {
		pkt := h.remove(0)
		e.writePacket(pkt)
		pkt.DecRef()
	}
}

// writePacket writes pkt as one frame, behind its virtio-net header if the
// link takes one; failures are counted and logged. The caller holds wmu.
func (e *endpoint) writePacket(pkt *stack.PacketBuffer) {
	e.bufs = e.bufs[:0]
	if e.vnet {
		putVnetHdr(e.hdr[:], pkt)
		e.bufs = append(e.bufs, e.hdr[:])
	}
	size := 0
	views, off := pkt.AsViewList()
	for v := views.Front(); v != nil; v = v.Next() {
		data := v.AsSlice()
		if off >= len(data) {
			off -= len(data)
			continue
		}
		e.bufs = append(e.bufs, data[off:])
		size += len(data) - off
		off = 0
	}
	_, err := e.link.Writev(e.bufs)
	clear(e.bufs) // the packet's memory goes back to its pool
	if err != nil {
		if !e.s.isClosing(err) {
			e.s.writeFailed(err)
		}
		return
	}
	e.s.stats.framesOut.Add(1)
	e.s.stats.bytesOut.Add(uint64(size))
}

// readLoop feeds frames from the link to the stack until the link fails or
// is closed. It reads into one buffer, reused, and copies each frame into
// pooled packet memory sized to fit it.
func (e *endpoint) readLoop() {
	s := e.s
	defer s.wg.Done()
	size := int(e.mtu) + vlanTagLen
	if e.vnet {
		size = vnetHdrLen + gsoMaxSize + header.EthernetMinimumSize + vlanTagLen
	}
	buf := make([]byte, size)
	for {
		n, err := e.link.Read(buf)
		if err != nil {
			if !s.isClosing(err) {
				s.log.Error("link read failed; no more frames will be received", "err", err)
			}
			return
		}
		frame := buf[:n]
		if e.vnet {
			if n < vnetHdrLen || !checkInbound(frame[:vnetHdrLen], frame[vnetHdrLen:]) {
				s.stats.badFrames.Add(1)
				continue
			}
			frame = frame[vnetHdrLen:]
		}
		if len(frame) == 0 {
			continue
		}
		s.stats.framesIn.Add(1)
		s.stats.bytesIn.Add(uint64(len(frame)))
		e.mu.RLock()
		d := e.dispatcher
		e.mu.RUnlock()
		if d == nil {
			continue
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
		// ethernet.Endpoint above parses the header and picks the
		// network protocol, so none is given here.
		d.DeliverNetworkPacket(0, pkt)
		pkt.DecRef()
	}
}
