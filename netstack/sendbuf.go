package netstack

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Send buffers that grow for connections that drain them, within a
// budget.
//
// Every connection starts with a send buffer of sendBuffer, what a client
// that never reads can hold. A connection whose writer finds its buffer
// full after writing raiseAfter bytes (so the peer has acknowledged at
// least a buffer's worth: data is moving) is raised to raisedSendBuffer
// while the Stack's budget has room for the difference and its peer (an
// IPv4 address, or an IPv6 /64, what one client is likely to hold) has
// fewer than perPeerRaised raised connections. Without that cap, about
// 17 connections of one client that each drain raiseAfter and then stall
// hold the whole budget for the server's write timeout plus closeHold,
// and every other client's downloads stay at sendBuffer meanwhile.
// A raised connection whose writer gets nothing more into the buffer for
// stallAfter (the peer stopped reading, or the writer has nothing more to
// say) is lowered to sendBuffer again. Its share of the budget goes back
// at a later check that finds the lowering held (gVisor may store back a
// size it read before) and the buffer holding no more than sendBuffer
// (there is room, or its writer got more than raisedSendBuffer in since
// the lowering), or, once closed, when everything it sent was
// acknowledged; a closed connection still holding more after closeHold
// is reset. A stalled connection's share cannot go back sooner: the
// bytes the peer has not acknowledged are still held, up to
// raisedSendBuffer. So at most budget bytes of raised buffers exist at
// any time, and N connections hold at most N * sendBuffer + budget
// (256 KiB each and 64 MiB). gVisor's own growth of send buffers
// with the congestion window (to twice cwnd times the MSS, up to 4 MiB)
// is off for the same reason: it let every connection that stalls after
// a fast start hold up to 4 MiB, with no bound on the total. The raised
// size is that 4 MiB: 1 MiB measured more CPU per MB on the 10 MB
// download than gVisor's growth did (BENCHMARKS.md, issue 16).
const (
	raisedSendBuffer = 4 << 20
	raiseAfter       = 2 * sendBuffer
	sendBudgetBytes  = 64 << 20
	stallAfter       = 2 * time.Second
	closeHold        = time.Minute
	perPeerRaised    = 2
)

// sendBudget is the room left for raised send buffers, in bytes above
// sendBuffer, and the shares each peer holds.
type sendBudget struct {
	mu    sync.Mutex
	free  int64
	peers map[netip.Prefix]int // shares held, by peerOf; no zeros
}

func newSendBudget(n int64) *sendBudget {
	return &sendBudget{free: n, peers: make(map[netip.Prefix]int)}
}

// peerOf is the group of addresses one client is likely to hold: the
// address itself for IPv4, its /64 for IPv6. An invalid address (a
// connection whose peer could not be named) makes a group of its own.
func peerOf(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 64
	if ip.Is4() {
		bits = 32
	}
	p, _ := ip.Prefix(bits)
	return p
}

// take reserves n bytes for peer if there is room for them and peer holds
// fewer than perPeerRaised shares.
func (b *sendBudget) take(n int64, peer netip.Prefix) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.free < n || b.peers[peer] >= perPeerRaised {
		return false
	}
	b.free -= n
	b.peers[peer]++
	return true
}

// give returns n bytes peer took.
func (b *sendBudget) give(n int64, peer netip.Prefix) {
	b.mu.Lock()
	b.free += n
	if b.peers[peer]--; b.peers[peer] <= 0 {
		delete(b.peers, peer)
	}
	b.mu.Unlock()
}

// left returns the bytes not taken.
func (b *sendBudget) left() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.free
}

// sendEndpoint is what a sendBuf needs of its connection's endpoint.
type sendEndpoint interface {
	setSendBuffer(n int64)
	hasRoom() bool  // the send buffer holds less than its size
	finished() bool // nothing sent waits to be acknowledged, or the connection is gone
	abort()
	sendBufferSize() int64
}

// sendBuf raises and lowers one connection's send buffer.
type sendBuf struct {
	ep     sendEndpoint
	budget *sendBudget
	peer   netip.Prefix  // peerOf the remote address; set before the first write
	tick   time.Duration // between checks of a raised buffer; 0: the caller checks (tests)

	written atomic.Int64 // bytes the writer got into the buffer

	mu       sync.Mutex
	share    int64 // bytes of the budget held; 0: neither raised nor draining
	raised   bool  // the buffer is raisedSendBuffer
	mark     int64 // written when last lowered (or 0): a raise needs raiseAfter more
	lastW    int64 // written at the last check
	closed   bool
	closedAt time.Time
	timer    *time.Timer
}

// wrote counts n bytes got into the buffer.
func (s *sendBuf) wrote(n int) {
	if n > 0 {
		s.written.Add(int64(n))
	}
}

// full is called by the writer when the buffer has no room: it raises the
// buffer if the connection qualifies and reports whether it did (the
// writer then tries again at once).
func (s *sendBuf) full() bool {
	if s.budget == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.written.Load()
	if s.share != 0 || s.closed || w-s.mark < raiseAfter {
		return false
	}
	if !s.budget.take(raisedSendBuffer-sendBuffer, s.peer) {
		return false
	}
	s.share = raisedSendBuffer - sendBuffer
	s.raised = true
	s.lastW = w
	s.ep.setSendBuffer(raisedSendBuffer)
	if s.tick > 0 {
		if s.timer == nil {
			s.timer = time.AfterFunc(s.tick, s.run)
		} else {
			s.timer.Reset(s.tick)
		}
	}
	return true
}

// run is the timer's: it checks and comes back while a share is held.
func (s *sendBuf) run() {
	if s.check(time.Now()) {
		s.mu.Lock()
		s.timer.Reset(s.tick)
		s.mu.Unlock()
	}
}

// check lowers a raised buffer whose writer made no progress since the
// last check and returns the share of one that no longer needs it. It
// reports whether a share is still held.
func (s *sendBuf) check(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.share == 0 {
		return false
	}
	w := s.written.Load()
	progress := w > s.lastW
	s.lastW = w
	if s.raised && (!progress || s.closed) {
		s.raised = false
		s.ep.setSendBuffer(sendBuffer)
		s.mark = s.written.Load()
		if !s.closed {
			// gVisor's processing of an acknowledgement reads the
			// size and may store it back at its end
			// (updateSndBufferUsage), undoing a lowering that falls
			// in between: the next check looks again.
			return true
		}
	}
	if s.raised {
		if s.ep.sendBufferSize() != raisedSendBuffer {
			s.ep.setSendBuffer(raisedSendBuffer) // a raise undone the same way
		}
		return true
	}
	if !s.closed && s.ep.sendBufferSize() != sendBuffer {
		s.ep.setSendBuffer(sendBuffer)
		s.mark = s.written.Load()
		return true
	}
	switch {
	case s.closed && s.ep.finished():
	case s.closed && now.Sub(s.closedAt) >= closeHold:
		s.ep.abort()
	case !s.closed && (w-s.mark > raisedSendBuffer || s.ep.hasRoom()):
		// gVisor checks the room against the buffer's size as it
		// appends, so once the buffer held less than sendBuffer after
		// the lowering it never holds more. The writer getting more
		// than raisedSendBuffer in since then shows the same: one
		// write in flight at the lowering appends that much at most
		// under the old size, and the rest went in under the new.
	default:
		return true
	}
	s.budget.give(s.share, s.peer)
	s.share = 0
	return false
}

// close notes that the connection is closed (or its sending side shut
// down): the share, if any, goes back when what was sent is acknowledged.
func (s *sendBuf) close(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.closedAt = now
	}
}

// tcpSend is a sendEndpoint of a gVisor TCP endpoint.
type tcpSend struct{ ep tcpip.Endpoint }

// setSendBuffer sets the size without notifying the endpoint, which would
// turn gVisor's own growth of the buffer back off and wake writers.
func (t tcpSend) setSendBuffer(n int64) { t.ep.SocketOptions().SetSendBufferSize(n, false) }

func (t tcpSend) hasRoom() bool { return t.ep.Readiness(waiter.WritableEvents) != 0 }

func (t tcpSend) finished() bool {
	switch tcp.EndpointState(t.ep.State()) {
	case tcp.StateEstablished, tcp.StateCloseWait, tcp.StateFinWait1, tcp.StateLastAck, tcp.StateClosing:
		return false
	}
	return true
}

func (t tcpSend) abort() { t.ep.Abort() }

func (t tcpSend) sendBufferSize() int64 { return t.ep.SocketOptions().GetSendBufferSize() }

// fixSendBuffer sets ep's send buffer to sendBuffer as an explicit choice,
// which turns off gVisor's growth of it with the congestion window.
func fixSendBuffer(ep tcpip.Endpoint) { ep.SocketOptions().SetSendBufferSize(sendBuffer, true) }
