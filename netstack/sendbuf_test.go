package netstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"
)

// fakeSend is a sendEndpoint whose state the test sets.
type fakeSend struct {
	size    int64
	room    bool
	done    bool
	aborted bool
	resizes int
}

func (f *fakeSend) setSendBuffer(n int64) { f.size = n; f.resizes++ }
func (f *fakeSend) hasRoom() bool         { return f.room }
func (f *fakeSend) finished() bool        { return f.done }
func (f *fakeSend) abort()                { f.aborted = true }
func (f *fakeSend) sendBufferSize() int64 { return f.size }

const share = raisedSendBuffer - sendBuffer

// newFake makes a sendBuf of a fakeSend whose peer is at addr.
func newFake(budget *sendBudget, addr string) (*sendBuf, *fakeSend) {
	f := &fakeSend{size: sendBuffer}
	return &sendBuf{ep: f, budget: budget, peer: peerOf(netip.MustParseAddr(addr))}, f
}

// TestSendBufRaise: a full buffer is raised only once the writer got
// raiseAfter bytes in (data moves), and only while the budget has room.
func TestSendBufRaise(t *testing.T) {
	b := newSendBudget(share)
	s, f := newFake(b, "192.0.2.1")
	s.wrote(sendBuffer)
	if s.full() {
		t.Fatal("raised after one buffer: the peer may not read at all")
	}
	s.wrote(raiseAfter - sendBuffer)
	if !s.full() || f.size != raisedSendBuffer || b.left() != 0 {
		t.Fatalf("not raised after %d bytes: size %d, budget left %d", raiseAfter, f.size, b.left())
	}
	if s.full() || f.resizes != 1 {
		t.Fatal("raised twice")
	}
	s2, f2 := newFake(b, "192.0.2.2")
	s2.wrote(raiseAfter)
	if s2.full() || f2.size != sendBuffer {
		t.Fatal("raised beyond the budget")
	}
}

// TestSendBufStall: a raised buffer whose writer gets nothing in for a
// check is lowered; its share goes back once the buffer holds no more
// than sendBuffer.
func TestSendBufStall(t *testing.T) {
	b := newSendBudget(share)
	s, f := newFake(b, "192.0.2.1")
	now := time.Now()
	s.wrote(raiseAfter)
	s.full()
	s.wrote(64 << 10)
	if !s.check(now) || f.size != raisedSendBuffer {
		t.Fatal("lowered while data moves")
	}
	// No progress: lowered, share kept while the buffer holds more.
	if !s.check(now) || f.size != sendBuffer || b.left() != 0 {
		t.Fatalf("stalled: size %d, budget left %d", f.size, b.left())
	}
	if !s.check(now) || b.left() != 0 {
		t.Fatal("share returned while the buffer holds more than sendBuffer")
	}
	f.room = true
	if s.check(now) || b.left() != share {
		t.Fatal("share not returned once the buffer has room")
	}
	// Raised again only after raiseAfter more.
	s.wrote(raiseAfter - 1)
	if s.full() {
		t.Fatal("raised again too soon")
	}
	s.wrote(1)
	if !s.full() || b.left() != 0 {
		t.Fatal("not raised again")
	}
}

// TestSendBufLoweringUndone: gVisor's processing of an acknowledgement
// reads the send buffer's size and stores it back at its end
// (updateSndBufferUsage), so a lowering that falls between the two is
// undone and the buffer stays raisedSendBuffer. The share goes back only
// at a later check that finds the buffer at sendBuffer, or the connection
// would hold up to raisedSendBuffer outside the budget.
func TestSendBufLoweringUndone(t *testing.T) {
	b := newSendBudget(share)
	s, f := newFake(b, "192.0.2.1")
	now := time.Now()
	s.wrote(raiseAfter)
	s.full()
	f.room = true // the writer had nothing more to say
	if !s.check(now) || b.left() != 0 {
		t.Fatal("share returned by the check that lowered: a store racing the lowering may undo it")
	}
	f.size = raisedSendBuffer // the size read before the lowering, stored back
	if !s.check(now) || b.left() != 0 {
		t.Fatal("share returned while the buffer is raisedSendBuffer")
	}
	if f.size != sendBuffer {
		t.Fatal("an undone lowering not lowered again")
	}
	if s.check(now) || b.left() != share {
		t.Fatal("share not returned once the lowering held")
	}
}

// TestSendBufRaiseUndone: the same store back may undo a raise, which
// would leave a download at sendBuffer while its share is held: a check
// that finds data moving raises it again.
func TestSendBufRaiseUndone(t *testing.T) {
	b := newSendBudget(share)
	s, f := newFake(b, "192.0.2.1")
	s.wrote(raiseAfter)
	s.full()
	f.size = sendBuffer // the size read before the raise, stored back
	s.wrote(64 << 10)
	if !s.check(time.Now()) || f.size != raisedSendBuffer {
		t.Fatalf("a raised connection left at %d bytes", f.size)
	}
}

// TestSendBufWriterGotIn: after the lowering, more than
// raisedSendBuffer written shows that the buffer held less than
// sendBuffer (a write in flight at the lowering may append that much
// under the old size).
func TestSendBufWriterGotIn(t *testing.T) {
	b := newSendBudget(share)
	s, _ := newFake(b, "192.0.2.1")
	now := time.Now()
	s.wrote(raiseAfter)
	s.full()
	s.check(now) // lowered
	s.wrote(raisedSendBuffer)
	if !s.check(now) || b.left() != 0 {
		t.Fatal("share returned after what one write in flight could append")
	}
	s.wrote(1)
	if s.check(now) || b.left() != share {
		t.Fatal("share kept after the writer got in under the small buffer")
	}
}

// TestSendBufClose: a closed connection's share goes back when what it
// sent is acknowledged, or after closeHold with a reset.
func TestSendBufClose(t *testing.T) {
	b := newSendBudget(2 * share)
	now := time.Now()
	s, f := newFake(b, "192.0.2.1")
	s.wrote(raiseAfter)
	s.full()
	s.wrote(1)
	s.close(now)
	f.room = true // a shut-down sending side reads as writable: not trusted
	if !s.check(now) || f.size != sendBuffer || b.left() != share {
		t.Fatalf("closed: size %d, budget left %d", f.size, b.left())
	}
	f.done = true
	if s.check(now) || b.left() != 2*share || f.aborted {
		t.Fatal("share not returned once everything was acknowledged")
	}

	s, f = newFake(b, "192.0.2.1")
	s.wrote(raiseAfter)
	s.full()
	s.close(now)
	if !s.check(now.Add(closeHold-time.Second)) || f.aborted {
		t.Fatal("reset too soon")
	}
	if s.check(now.Add(closeHold)) || !f.aborted || b.left() != 2*share {
		t.Fatal("a closed connection that holds its data past closeHold is not reset")
	}
	if s.full() {
		t.Fatal("a closed connection raised")
	}
}

// TestPeerOf: a peer is an IPv4 address, or an IPv6 /64.
func TestPeerOf(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"2001:db8:0:1::1", "2001:db8:0:1::/64"},
		{"2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db8:0:1::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	} {
		if got := peerOf(netip.MustParseAddr(c.a)); got != netip.MustParsePrefix(c.b) {
			t.Errorf("peerOf(%s) = %s, want %s", c.a, got, c.b)
		}
	}
	if p := peerOf(netip.Addr{}); p.IsValid() {
		t.Errorf("peerOf of no address = %s", p)
	}
}

// TestSendBudgetPerPeer: one peer (an IPv4 address, an IPv6 /64) holds
// at most perPeerRaised shares while the budget has room for more, so
// connections that drain raiseAfter and stall cannot take all of it;
// other peers are raised meanwhile, and a share given back lets the peer
// raise another.
func TestSendBudgetPerPeer(t *testing.T) {
	for _, c := range []struct {
		name  string
		same  []string // addresses of one peer
		other string   // another peer's
	}{
		{"IPv4", []string{"192.0.2.1", "192.0.2.1", "::ffff:192.0.2.1"}, "192.0.2.2"},
		{"IPv6", []string{"2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:abcd::1"}, "2001:db8:0:2::1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newSendBudget(10 * share)
			var bufs []*sendBuf
			for i, a := range c.same {
				s, f := newFake(b, a)
				s.wrote(raiseAfter)
				if raised := s.full(); raised != (i < perPeerRaised) {
					t.Fatalf("connection %d of one peer (%s): raised %v, size %d", i+1, a, raised, f.size)
				}
				bufs = append(bufs, s)
			}
			if b.left() != (10-perPeerRaised)*share {
				t.Fatalf("budget left %d", b.left())
			}
			o, _ := newFake(b, c.other)
			o.wrote(raiseAfter)
			if !o.full() {
				t.Fatal("another peer not raised")
			}
			// The first's writer is done: its share goes back, and the
			// peer's next connection that fills its buffer is raised.
			now := time.Now()
			bufs[0].check(now)
			bufs[0].ep.(*fakeSend).room = true
			if bufs[0].check(now) {
				t.Fatal("share not returned")
			}
			if !bufs[perPeerRaised].full() {
				t.Fatal("not raised after the peer gave a share back")
			}
			for _, s := range append(bufs[1:], o) {
				s.close(now)
				s.ep.(*fakeSend).done = true
				s.check(now)
				s.check(now)
			}
			if b.left() != 10*share || len(b.peers) != 0 {
				t.Fatalf("all returned: budget left %d, peers %v", b.left(), b.peers)
			}
		})
	}
}

// TestSendBudgetManyPeers: with the cap per peer, ten peers that each
// fill perPeerRaised shares still never take more than the budget.
func TestSendBudgetManyPeers(t *testing.T) {
	b := newSendBudget(5 * share)
	raised := 0
	for i := range 10 {
		for range perPeerRaised + 1 {
			s, _ := newFake(b, fmt.Sprintf("2001:db8:0:%x::1", i))
			s.wrote(raiseAfter)
			if s.full() {
				raised++
			}
		}
	}
	if raised != 5 || b.left() != 0 {
		t.Fatalf("%d raised, %d left", raised, b.left())
	}
}

// TestSendBudgetBound: however the connections behave, raised buffers
// never take more than the budget.
func TestSendBudgetBound(t *testing.T) {
	const n = 100
	b := newSendBudget(10 * share)
	bufs := make([]*sendBuf, n)
	raised := 0
	for i := range bufs {
		bufs[i], _ = newFake(b, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String())
		bufs[i].wrote(raiseAfter)
		if bufs[i].full() {
			raised++
		}
	}
	if raised != 10 || b.left() != 0 {
		t.Fatalf("%d raised, %d left", raised, b.left())
	}
	now := time.Now()
	for _, s := range bufs[:5] {
		s.check(now)
		s.ep.(*fakeSend).room = true
		s.check(now)
	}
	again := 0
	for _, s := range bufs[10:] {
		if s.full() {
			again++
		}
	}
	if again != 5 || b.left() != 0 {
		t.Fatalf("%d raised after 5 returned, %d left", again, b.left())
	}
}

// TestSendBufOnStacks: on two Stacks, a connection whose peer reads is
// raised and gives its share back after its writer stops; one whose peer
// never reads, with a small receive buffer, stays at sendBuffer; one
// whose peer never reads but took in more than raiseAfter is raised,
// lowered once nothing more gets in, and gives its share back when the
// peer resets.
func TestSendBufOnStacks(t *testing.T) {
	p := newPair(t, 0)
	ln, err := p.a.Listen("tcp4", "10.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	serve := func(read bool, rcvbuf int64) (*conn, *conn) {
		t.Helper()
		cl, err := p.b.Dial(ctx, "tcp", "10.0.0.1:8080")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		if rcvbuf > 0 {
			cl.(*conn).ep.SocketOptions().SetReceiveBufferSize(rcvbuf, true)
		}
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sc.Close() })
		if read {
			go io.Copy(io.Discard, cl)
		}
		return sc.(*conn), cl.(*conn)
	}
	size := func(c *conn) int64 { return c.ep.SocketOptions().GetSendBufferSize() }
	wait := func(what string, done func() bool) {
		t.Helper()
		for end := time.Now().Add(timeout); !done(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatal(what)
			}
		}
	}
	budget := p.a.sendBudget

	fast, _ := serve(true, 0)
	fast.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := fast.Write(make([]byte, 4<<20)); err != nil {
		t.Fatal(err)
	}
	if budget.left() != sendBudgetBytes-share || size(fast) != raisedSendBuffer {
		t.Fatalf("reader's buffer %d, budget left %d", size(fast), budget.left())
	}
	if want := peerOf(addrB); fast.sb.peer != want {
		t.Fatalf("share counted against %s, not the client's %s", fast.sb.peer, want)
	}
	// The writer is done: within two checks the share is back.
	wait("an idle reader keeps its share", func() bool { return budget.left() == sendBudgetBytes })
	if size(fast) != sendBuffer {
		t.Fatalf("idle reader's buffer %d", size(fast))
	}

	slow, _ := serve(false, 4<<10)
	slow.SetWriteDeadline(time.Now().Add(time.Second))
	if n, err := slow.Write(make([]byte, 4<<20)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that never reads: %d, %v", n, err)
	}
	if size(slow) != sendBuffer || budget.left() != sendBudgetBytes {
		t.Fatalf("non-reader's buffer %d, budget left %d", size(slow), budget.left())
	}

	taker, cl := serve(false, 0)
	taker.SetWriteDeadline(time.Now().Add(3 * stallAfter))
	if n, err := taker.Write(make([]byte, 8<<20)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that never reads: %d, %v", n, err)
	}
	if size(taker) != sendBuffer || budget.left() != sendBudgetBytes-share {
		t.Fatalf("stalled after a start: buffer %d, budget left %d", size(taker), budget.left())
	}
	cl.ep.Abort()
	wait("a reset connection keeps its share", func() bool { return budget.left() == sendBudgetBytes })
}
