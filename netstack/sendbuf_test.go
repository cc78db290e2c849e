package netstack

import (
	"context"
	"errors"
	"io"
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

func newFake(budget *sendBudget) (*sendBuf, *fakeSend) {
	f := &fakeSend{size: sendBuffer}
	return &sendBuf{ep: f, budget: budget}, f
}

// TestSendBufRaise: a full buffer is raised only once the writer got
// raiseAfter bytes in (data moves), and only while the budget has room.
func TestSendBufRaise(t *testing.T) {
	b := newSendBudget(share)
	s, f := newFake(b)
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
	s2, f2 := newFake(b)
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
	s, f := newFake(b)
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
	s, f := newFake(b)
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
	s, f := newFake(b)
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
	s, _ := newFake(b)
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
	s, f := newFake(b)
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

	s, f = newFake(b)
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

// TestSendBudgetBound: however the connections behave, raised buffers
// never take more than the budget.
func TestSendBudgetBound(t *testing.T) {
	const n = 100
	b := newSendBudget(10 * share)
	bufs := make([]*sendBuf, n)
	raised := 0
	for i := range bufs {
		bufs[i], _ = newFake(b)
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
