package netstack

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"
)

// conn is one of the Stack's TCP connections as a net.Conn. It costs less
// per call than gVisor's gonet.TCPConn, which a request-per-connection
// server calls several times a request: it registers one waiter entry
// for its whole life (gonet makes and registers one, with a channel, in
// each Read or Write that has to wait), wakes a reader or writer only
// when one waits, keeps one timer per direction for its deadlines (gonet
// makes a timer and often a channel each time a deadline is set, and
// net/http sets one about five times a request), and names its
// addresses once.
type conn struct {
	ep            tcpip.Endpoint
	wq            *waiter.Queue
	entry         waiter.Entry
	local, remote net.Addr
	moderate      bool // the stack moderates receive buffers: report what is read
	sb            sendBuf

	readMu   sync.Mutex
	rwait    atomic.Bool   // a reader is about to sleep on readable
	readable chan struct{} // a token: the endpoint may be readable, or rd passed
	rd       deadline

	writeMu  sync.Mutex
	wwait    atomic.Bool
	writable chan struct{}
	wd       deadline

	closeOnce sync.Once
	closed    atomic.Bool
}

// newConn makes a conn of ep, whose events wq carries.
// Its send buffer starts at sendBuffer and grows within budget (see
// sendBuf).
func newConn(ep tcpip.Endpoint, wq *waiter.Queue, moderate bool, budget *sendBudget) *conn {
	fixSendBuffer(ep)
	c := &conn{
		ep:       ep,
		wq:       wq,
		moderate: moderate,
		readable: make(chan struct{}, 1),
		writable: make(chan struct{}, 1),
	}
	c.sb = sendBuf{ep: tcpSend{ep}, budget: budget, tick: stallAfter}
	c.rd.wake = c.readable
	c.wd.wake = c.writable
	c.entry.Init(c, waiter.ReadableEvents|waiter.WritableEvents|waiter.EventHUp|waiter.EventErr)
	wq.EventRegister(&c.entry)
	return c
}

// nameAddrs records the connection's addresses, once it is connected,
// before it is handed out: the send buffer's share of the budget is
// counted against the remote address's peer.
func (c *conn) nameAddrs() {
	if a, err := c.ep.GetLocalAddress(); err == nil {
		c.local = tcpAddr(a)
	}
	if a, err := c.ep.GetRemoteAddress(); err == nil {
		c.remote = tcpAddr(a)
		c.sb.peer = peerOf(netipFrom(a.Addr))
	}
}

func tcpAddr(a tcpip.FullAddress) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IP(a.Addr.AsSlice()), Port: int(a.Port)}
}

// NotifyEvent implements waiter.EventListener: it runs in the stack's
// goroutines, under the waiter queue's lock.
func (c *conn) NotifyEvent(m waiter.EventMask) {
	const fail = waiter.EventHUp | waiter.EventErr
	if m&(waiter.ReadableEvents|fail) != 0 && c.rwait.Load() {
		wake(c.readable)
	}
	if m&(waiter.WritableEvents|fail) != 0 && c.wwait.Load() {
		wake(c.writable)
	}
}

// wake leaves a token in ch unless one is there.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Read implements net.Conn: it reads what the connection has received
// into b, waiting for something if nothing has come yet.
func (c *conn) Read(b []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, err, again := c.tryRead(b)
		if !again {
			return n, err
		}
		// Check once more after saying a reader waits: data that came
		// in between is either seen here or wakes the reader.
		c.rwait.Store(true)
		n, err, again = c.tryRead(b)
		if again {
			<-c.readable
		}
		c.rwait.Store(false)
		if !again {
			return n, err
		}
	}
}

// tryRead reads without waiting; again reports that nothing was there.
func (c *conn) tryRead(b []byte) (n int, err error, again bool) {
	if c.closed.Load() {
		return 0, c.opError("read", net.ErrClosed), false
	}
	if c.rd.passed() {
		return 0, c.opError("read", os.ErrDeadlineExceeded), false
	}
	w := tcpip.SliceWriter(b)
	res, terr := c.ep.Read(&w, tcpip.ReadOptions{})
	switch terr.(type) {
	case nil:
		if c.moderate {
			c.ep.ModerateRecvBuf(res.Count)
		}
		return res.Count, nil, false
	case *tcpip.ErrWouldBlock:
		return 0, nil, true
	case *tcpip.ErrClosedForReceive:
		return 0, io.EOF, false
	}
	return 0, c.opError("read", errors.New(terr.String())), false
}

// Write implements net.Conn: it hands all of b to the connection's send
// buffer, waiting for room when it is full.
func (c *conn) Write(b []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	n := 0
	for {
		m, err, again := c.tryWrite(b[n:])
		n += m
		c.sb.wrote(m)
		if !again {
			return n, err
		}
		if m > 0 || c.sb.full() {
			continue
		}
		c.wwait.Store(true)
		m, err, again = c.tryWrite(b[n:])
		n += m
		c.sb.wrote(m)
		if again && m == 0 {
			<-c.writable
		}
		c.wwait.Store(false)
		if !again {
			return n, err
		}
	}
}

// tryWrite writes what fits of b without waiting; again reports that some
// of b is left.
func (c *conn) tryWrite(b []byte) (n int, err error, again bool) {
	if c.closed.Load() {
		return 0, c.opError("write", net.ErrClosed), false
	}
	if c.wd.passed() {
		return 0, c.opError("write", os.ErrDeadlineExceeded), false
	}
	if len(b) == 0 {
		return 0, nil, false
	}
	var r bytes.Reader
	r.Reset(b)
	m, terr := c.ep.Write(&r, tcpip.WriteOptions{})
	switch terr.(type) {
	case nil:
		return int(m), nil, int(m) < len(b)
	case *tcpip.ErrWouldBlock:
		return 0, nil, true
	}
	return 0, c.opError("write", errors.New(terr.String())), false
}

// Close implements net.Conn.
func (c *conn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		c.closed.Store(true)
		c.sb.close(time.Now())
		c.wq.EventUnregister(&c.entry)
		c.rd.stop()
		c.wd.stop()
		c.ep.Close()
		// Readers and writers that wait see the closed endpoint.
		wake(c.readable)
		wake(c.writable)
	})
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	return nil
}

// CloseRead shuts down the reading side, as net.TCPConn's does.
func (c *conn) CloseRead() error {
	if err := c.ep.Shutdown(tcpip.ShutdownRead); err != nil {
		return c.opError("close", errors.New(err.String()))
	}
	return nil
}

// CloseWrite shuts down the writing side (sends a FIN), as net.TCPConn's
// does.
func (c *conn) CloseWrite() error {
	c.sb.close(time.Now())
	if err := c.ep.Shutdown(tcpip.ShutdownWrite); err != nil {
		return c.opError("close", errors.New(err.String()))
	}
	return nil
}

// LocalAddr implements net.Conn.
func (c *conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr implements net.Conn.
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline implements net.Conn.
func (c *conn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

// SetReadDeadline implements net.Conn.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.rd.set(t)
	return nil
}

// SetWriteDeadline implements net.Conn.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.wd.set(t)
	return nil
}

func (c *conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: err}
}
