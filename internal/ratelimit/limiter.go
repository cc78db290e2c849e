package ratelimit

import (
	"container/list"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/pasteur-dev/pasteur/netx"
)

// DefaultMaxClients bounds the table of clients unless configured
// otherwise: about 200 bytes each, so some 13 MiB.
const DefaultMaxClients = 65536

// Config configures a Limiter.
type Config struct {
	// Rate is what each client may spend, in bursts of up to Rate.N.
	Rate Rate

	// MaxClients bounds the clients remembered (DefaultMaxClients when
	// 0). Past it, the client seen least recently is forgotten, and
	// starts again with a full bucket: an attacker with more addresses
	// than this gets more than Rate; nobody gets less.
	MaxClients int

	// OnReject, when set, is called for each request refused.
	OnReject func()

	// Now is the clock (time.Now when nil), for tests.
	Now func() time.Time
}

// Limiter is a token bucket per client. It is safe for concurrent use.
type Limiter struct {
	rate     Rate
	max      int
	onReject func()
	now      func() time.Time

	mu      sync.Mutex
	clients map[netip.Prefix]*list.Element // of *bucket
	lru     list.List                      // least recently seen first
}

// bucket is one client's tokens at a time.
type bucket struct {
	key    netip.Prefix
	tokens float64
	at     time.Time
}

// New returns a Limiter, or an error for a Config that limits nothing.
func New(cfg Config) (*Limiter, error) {
	if cfg.Rate.N < 1 || cfg.Rate.Per <= 0 || cfg.Rate.interval() <= 0 {
		return nil, errors.New("ratelimit: the rate must be positive")
	}
	l := &Limiter{rate: cfg.Rate, max: cfg.MaxClients, onReject: cfg.OnReject, now: cfg.Now,
		clients: make(map[netip.Prefix]*list.Element)}
	if l.max <= 0 {
		l.max = DefaultMaxClients
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l, nil
}

// Allow spends one of a's tokens and reports true, or reports false and
// how long until a token is back.
func (l *Limiter) Allow(a netip.Addr) (bool, time.Duration) {
	key := netx.ClientPrefix(a)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	e, ok := l.clients[key]
	if !ok {
		if l.lru.Len() >= l.max {
			delete(l.clients, l.lru.Remove(l.lru.Front()).(*bucket).key)
		}
		e = l.lru.PushBack(&bucket{key: key, tokens: float64(l.rate.N), at: now})
		l.clients[key] = e
	} else {
		l.lru.MoveToBack(e)
	}
	b := e.Value.(*bucket)
	b.refill(now, l.rate)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(l.rate.interval()))
	return false, wait
}

// Blocked reports, without spending anything, whether a has no token
// left, and how long until one is back.
func (l *Limiter) Blocked(a netip.Addr) (bool, time.Duration) {
	key := netx.ClientPrefix(a)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.clients[key]
	if !ok {
		return false, 0
	}
	b := *e.Value.(*bucket)
	b.refill(now, l.rate)
	if b.tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - b.tokens) * float64(l.rate.interval()))
}

// Len reports how many clients the table holds.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// sweep forgets up to two least recently seen clients whose bucket is
// full again: they have nothing to remember. l.mu is held.
func (l *Limiter) sweep(now time.Time) {
	for range 2 {
		e := l.lru.Front()
		if e == nil {
			return
		}
		b := e.Value.(*bucket)
		if now.Sub(b.at) < time.Duration((float64(l.rate.N)-b.tokens)*float64(l.rate.interval())) {
			return
		}
		l.lru.Remove(e)
		delete(l.clients, b.key)
	}
}

// refill adds the tokens earned since b.at, up to r.N.
func (b *bucket) refill(now time.Time, r Rate) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens += float64(d) / float64(r.interval())
		if b.tokens > float64(r.N) {
			b.tokens = float64(r.N)
		}
	}
	b.at = now
}
