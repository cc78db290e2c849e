package netx

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stressConn is a connection that only knows its peer and counts its
// closes.
type stressConn struct {
	net.Conn
	peer   net.Addr
	closes atomic.Int32
}

func (c *stressConn) RemoteAddr() net.Addr { return c.peer }
func (c *stressConn) Close() error         { c.closes.Add(1); return nil }

// TestLimitStress: many goroutines admit connections from a few clients,
// turn them busy and idle, close them (twice, too), and call SetIdle on
// them after they closed or were evicted, all at once, while another
// checks under the lock that the idle queues are whole and agree with the
// counts, and that no cap is passed. At the end nothing is counted. It is
// bounded by a count of steps and by time.
func TestLimitStress(t *testing.T) {
	const (
		max       = 6
		perClient = 3
		workers   = 8
		steps     = 3000
	)
	exempt := netip.MustParseAddr("192.0.2.9")
	l := NewConnLimiter(Limits{Max: max, PerClient: perClient, Exempt: func(a netip.Addr) bool { return a == exempt }})
	peers := []net.Addr{
		&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1},
		&net.TCPAddr{IP: net.ParseIP("192.0.2.2"), Port: 1},
		&net.TCPAddr{IP: net.ParseIP("192.0.2.9"), Port: 1},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::2"), Port: 1}, // the same /64
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 1, Zone: "lo"},
	}
	deadline := time.Now().Add(20 * time.Second)
	done := make(chan struct{})
	var failed atomic.Bool
	check := func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if msg := l.inconsistency(max, perClient, exempt); msg != "" && !failed.Swap(true) {
			t.Error(msg)
		}
	}
	var checker sync.WaitGroup
	checker.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			check()
			time.Sleep(50 * time.Microsecond)
		}
	})

	// The connections admitted, shared: one goroutine's connection is
	// turned idle or closed by another, as a server's ConnState hook and
	// its closing run apart.
	var poolMu sync.Mutex
	var pool []*limitConn
	var admitted, evicted atomic.Int64
	var workersWG sync.WaitGroup
	for w := range workers {
		workersWG.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range steps {
				if time.Now().After(deadline) || failed.Load() {
					return
				}
				poolMu.Lock()
				var c *limitConn
				if len(pool) > 0 {
					c = pool[rng.IntN(len(pool))]
				}
				poolMu.Unlock()
				switch op := rng.IntN(10); {
				case op < 3 || c == nil:
					lc, victims, _ := l.admit(&stressConn{peer: peers[rng.IntN(len(peers))]})
					for _, v := range victims {
						v.Conn.Close()
						evicted.Add(1)
					}
					if lc != nil {
						admitted.Add(1)
						poolMu.Lock()
						pool = append(pool, lc)
						poolMu.Unlock()
					}
				case op < 7:
					l.SetIdle(c, rng.IntN(2) == 0)
				case op < 9:
					c.Close()
					if rng.IntN(4) == 0 {
						c.Close() // closed twice
					}
					l.SetIdle(c, true) // and turned idle after
				default:
					// Forgotten by the pool (at times while still
					// queued): closed at the end.
					poolMu.Lock()
					if len(pool) > 64 {
						for _, old := range pool[:32] {
							old.Close()
						}
						pool = append(pool[:0], pool[32:]...)
					}
					poolMu.Unlock()
				}
			}
		})
	}
	workersWG.Wait()
	close(done)
	checker.Wait()
	check()
	for _, c := range pool {
		c.Close()
	}
	check()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open != 0 || len(l.clients) != 0 || l.idle.front != nil || l.idle.back != nil {
		t.Fatalf("after every connection closed: %d open, %d clients, idle queue %p..%p", l.open, len(l.clients), l.idle.front, l.idle.back)
	}
	t.Logf("%d admitted, %d evicted", admitted.Load(), evicted.Load())
}

// inconsistency describes what is wrong in l's counts and queues, or
// returns ""; l.mu is held.
func (l *ConnLimiter) inconsistency(max, perClient int, exempt netip.Addr) string {
	if l.open < 0 || l.open > max {
		return "open " + itoa(l.open) + " outside 0.." + itoa(max)
	}
	idle, msg := walk(&l.idle, l.open)
	if msg != "" {
		return "limiter queue: " + msg
	}
	open, clientIdle := 0, 0
	for key, cl := range l.clients {
		if cl.open <= 0 || (key.Addr() != exempt && cl.open > perClient) {
			return "client " + key.String() + ": " + itoa(cl.open) + " open"
		}
		open += cl.open
		n, msg := walk(&cl.idle, cl.open)
		if msg != "" {
			return "client " + key.String() + " queue: " + msg
		}
		for c := cl.idle.front; c != nil; c = c.links[clientQueue].next {
			if c.cl != cl || c.key != key {
				return "client " + key.String() + " queue holds another client's connection"
			}
		}
		clientIdle += n
	}
	if open != l.open {
		return "clients hold " + itoa(open) + " open, the limiter " + itoa(l.open)
	}
	if clientIdle != idle {
		return "clients' queues hold " + itoa(clientIdle) + ", the limiter's " + itoa(idle)
	}
	return ""
}

// walk counts q's connections, checking its links both ways, each one
// queued and not released, and at most limit of them.
func walk(q *idleQueue, limit int) (int, string) {
	n := 0
	var prev *limitConn
	for c := q.front; c != nil; c = c.links[q.which].next {
		if n++; n > limit {
			return n, "more queued than open (a cycle?)"
		}
		l := &c.links[q.which]
		if !l.in || l.prev != prev || c.released {
			return n, "a connection out of place"
		}
		if !c.links[limiterQueue].in || !c.links[clientQueue].in {
			return n, "a connection in one queue only"
		}
		prev = c
	}
	if q.back != prev {
		return n, "back is not the last"
	}
	return n, ""
}

func itoa(n int) string { return strconv.Itoa(n) }
