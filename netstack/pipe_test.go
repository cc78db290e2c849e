package netstack

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pipeEnd is one end of an in-memory Ethernet link: each Write sends one
// frame (copied) to the other end, whose Read returns it whole. A Write
// blocks while the other end's queue is full, until either end is closed.
// With vnet, frames carry virtio-net headers, as on a TAP device with
// offloads, and nothing segments them: both ends take 64 KiB segments.
type pipeEnd struct {
	vnet       bool
	in, out    chan []byte
	done       chan struct{} // closed by Close
	peerDone   chan struct{}
	closeOnce  sync.Once
	maxWritten atomic.Int64 // longest frame written
}

// framePipe returns the two ends of a new link.
func framePipe(vnet bool) (*pipeEnd, *pipeEnd) {
	ab, ba := make(chan []byte, 256), make(chan []byte, 256)
	a := &pipeEnd{vnet: vnet, in: ba, out: ab, done: make(chan struct{})}
	b := &pipeEnd{vnet: vnet, in: ab, out: ba, done: make(chan struct{})}
	a.peerDone, b.peerDone = b.done, a.done
	return a, b
}

func (p *pipeEnd) Read(b []byte) (int, error) {
	select {
	case f := <-p.in:
		return copy(b, f), nil
	case <-p.done:
		return 0, net.ErrClosed
	}
}

func (p *pipeEnd) Write(b []byte) (int, error) {
	for {
		max := p.maxWritten.Load()
		if int64(len(b)) <= max || p.maxWritten.CompareAndSwap(max, int64(len(b))) {
			break
		}
	}
	f := append([]byte(nil), b...)
	select {
	case p.out <- f:
		return len(b), nil
	case <-p.done:
		return 0, net.ErrClosed
	case <-p.peerDone:
		return 0, io.ErrClosedPipe
	}
}

func (p *pipeEnd) Writev(bufs [][]byte) (int, error) {
	var b []byte
	for _, x := range bufs {
		b = append(b, x...)
	}
	return p.Write(b)
}

func (p *pipeEnd) VnetHdr() bool { return p.vnet }

func (p *pipeEnd) Close() error {
	p.closeOnce.Do(func() { close(p.done) })
	return nil
}

// Addresses of the two stacks of a test pair.
var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.3")
)

// pair is two Stacks on one in-memory link: a at 10.0.0.1/24, b at
// 10.0.0.3/24 with a as its gateway and DNS server.
type pair struct {
	a, b         *Stack
	linkA, linkB *pipeEnd
}

// newPair starts a pair whose stacks have the given IP MTU (0: default);
// the test's cleanup closes them.
func newPair(t *testing.T, mtu int) *pair {
	t.Helper()
	return newPairLink(t, mtu, false)
}

// newPairLink is newPair on a link with or without virtio-net headers.
func newPairLink(t *testing.T, mtu int, vnet bool) *pair {
	t.Helper()
	la, lb := framePipe(vnet)
	a, err := New(la, Config{Addr: netip.PrefixFrom(addrA, 24), MTU: mtu})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := New(lb, Config{Addr: netip.PrefixFrom(addrB, 24), Gateway: addrA, MTU: mtu})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &pair{a: a, b: b, linkA: la, linkB: lb}
}

// timeout bounds each test's network operations: generous, since the race
// detector slows gVisor down a lot; tests never assert on timing.
const timeout = 2 * time.Minute
