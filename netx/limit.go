package netx

import (
	"net"
	"net/netip"
	"sync"
)

// Reasons a ConnLimiter refuses a connection, as Limits.OnReject gets them.
const (
	RejectTotal     = "total"      // Limits.Max connections are open and none is idle
	RejectPerClient = "per_client" // the client holds Limits.PerClient, none idle
)

// Limits caps the connections a listener keeps open. The zero value caps
// nothing.
type Limits struct {
	// Max is the most connections open at once (0: no cap). Each costs a
	// file descriptor on the host's sockets and memory on either stack.
	Max int

	// PerClient is the most connections open at once from one client, an
	// IPv4 address or an IPv6 /64 (0: no cap).
	PerClient int

	// Exempt, when set, names peers PerClient does not apply to, such as
	// a reverse proxy that carries many clients' connections.
	Exempt func(netip.Addr) bool

	// OnReject, when set, is called for each connection refused, with
	// RejectTotal or RejectPerClient.
	OnReject func(reason string)

	// OnEvict, when set, is called for each idle connection closed to
	// make room for a new one.
	OnEvict func()
}

// ConnLimiter keeps the connections of one or more listeners within
// Limits. When a new connection would pass a cap, it closes the
// connection that has been idle longest (of the same client, for the
// per-client cap) to make room, and refuses the new one (accepts and
// closes it at once) when none is idle. Its user says which connections
// are idle with SetIdle; an HTTP server does so from its ConnState hook.
type ConnLimiter struct {
	lim Limits

	mu      sync.Mutex
	open    int
	idle    idleQueue // longest idle first; links[limiterQueue]
	clients map[netip.Prefix]*client
}

// client is what a ConnLimiter holds of one client's connections.
type client struct {
	open int
	idle idleQueue // longest idle first; links[clientQueue]
}

// The indexes of a limitConn's links: in its limiter's idle queue, and in
// its client's.
const (
	limiterQueue = 0
	clientQueue  = 1
)

// NewConnLimiter returns a ConnLimiter of lim.
func NewConnLimiter(lim Limits) *ConnLimiter {
	return &ConnLimiter{lim: lim, idle: idleQueue{which: limiterQueue}, clients: make(map[netip.Prefix]*client)}
}

// Listener returns ln, its connections counted against l's caps.
func (l *ConnLimiter) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, l: l}
}

// limitListener is a listener whose connections a ConnLimiter caps.
type limitListener struct {
	net.Listener
	l *ConnLimiter
}

// Accept waits for the next connection within the caps. Connections over
// a cap are closed, counted with OnReject, and never returned.
func (ll *limitListener) Accept() (net.Conn, error) {
	l := ll.l
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc, victims, reason := l.admit(c)
		for _, v := range victims {
			v.Conn.Close()
			if l.lim.OnEvict != nil {
				l.lim.OnEvict()
			}
		}
		if lc != nil {
			return lc, nil
		}
		c.Close()
		if l.lim.OnReject != nil {
			l.lim.OnReject(reason)
		}
	}
}

// Open reports how many connections are open.
func (l *ConnLimiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// admit takes a slot for c, choosing the idle connections to close for
// it; without a slot it returns a nil conn and the reason.
func (l *ConnLimiter) admit(c net.Conn) (*limitConn, []*limitConn, string) {
	key := ClientPrefix(peerAddr(c))
	perClient := l.lim.PerClient > 0 && (l.lim.Exempt == nil || !l.lim.Exempt(key.Addr()))
	l.mu.Lock()
	defer l.mu.Unlock()
	cl := l.clients[key]
	if cl == nil {
		cl = &client{idle: idleQueue{which: clientQueue}}
	}
	var victims []*limitConn
	if perClient && cl.open >= l.lim.PerClient {
		v := cl.idle.front
		if v == nil {
			l.dropClient(key, cl)
			return nil, nil, RejectPerClient
		}
		l.release(v)
		victims = append(victims, v)
	}
	if l.lim.Max > 0 && l.open >= l.lim.Max {
		v := l.idle.front
		if v == nil {
			l.dropClient(key, cl)
			// The victim chosen for the per-client cap is closed
			// anyway: its slot was released.
			return nil, victims, RejectTotal
		}
		l.release(v)
		victims = append(victims, v)
	}
	l.clients[key] = cl
	l.open++
	cl.open++
	lc := &limitConn{Conn: c, l: l, key: key, cl: cl}
	lc.setIdle(true)
	return lc, victims, ""
}

// dropClient forgets cl if it holds no connection.
func (l *ConnLimiter) dropClient(key netip.Prefix, cl *client) {
	if cl.open == 0 {
		delete(l.clients, key)
	}
}

// release frees c's slot, once; l.mu is held.
func (l *ConnLimiter) release(c *limitConn) {
	if c.released {
		return
	}
	c.released = true
	c.setIdle(false)
	l.open--
	c.cl.open--
	l.dropClient(c.key, c.cl)
}

// SetIdle says whether c, a connection one of l's listeners returned (or one
// wrapping it, such as a *tls.Conn), waits for a request (idle: it may be
// closed to make room) or is serving one. New connections count as idle
// until SetIdle says otherwise.
func (l *ConnLimiter) SetIdle(c net.Conn, idle bool) {
	lc := unwrapLimitConn(c)
	if lc == nil || lc.l != l {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !lc.released {
		lc.setIdle(idle)
	}
}

// limitConn is a connection holding a slot of a ConnLimiter.
type limitConn struct {
	net.Conn
	l   *ConnLimiter
	key netip.Prefix
	cl  *client

	// Guarded by l.mu.
	released bool
	links    [2]idleLink // in l.idle and cl.idle, when idle
}

// setIdle moves c in or out of the idle lists; l.mu is held.
func (c *limitConn) setIdle(idle bool) {
	if idle == c.links[limiterQueue].in {
		return
	}
	if idle {
		c.l.idle.pushBack(c)
		c.cl.idle.pushBack(c)
		return
	}
	c.l.idle.remove(c)
	c.cl.idle.remove(c)
}

// Close closes the connection and frees its slot.
func (c *limitConn) Close() error {
	c.l.mu.Lock()
	c.l.release(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// unwrapLimitConn finds the *limitConn under c, through wrappers that
// name theirs with NetConn (as *tls.Conn does).
func unwrapLimitConn(c net.Conn) *limitConn {
	for i := 0; c != nil && i < 8; i++ {
		if lc, ok := c.(*limitConn); ok {
			return lc
		}
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = w.NetConn()
	}
	return nil
}

// peerAddr is c's remote IP address (the zero Addr when it has none).
func peerAddr(c net.Conn) netip.Addr {
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Addr{}
		}
		return ap.Addr().Unmap()
	}
}

// ClientPrefix is the unit a limit counts as one client: an IPv4 address,
// or the /64 an IPv6 address belongs to (one host usually holds a whole
// /64). The zero Addr gives the zero Prefix.
func ClientPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	switch {
	case a.Is4():
		return netip.PrefixFrom(a, 32)
	case a.Is6():
		p, _ := a.WithZone("").Prefix(64)
		return p
	}
	return netip.Prefix{}
}
