package paste

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Cache is a Store that keeps recently read pastes in memory in front of
// another Store. A paste never changes once created, but it may be
// removed: the Cache forgets what it removes itself, answers ErrGone for a
// paste whose expiry has passed, keeps no paste that burns after reading,
// and forgets what Forget names (the removals another instance made, which
// the Store learns of). Misses are not cached, since a paste may arrive
// later (from another writer through the remote).
type Cache struct {
	store    Store
	maxBytes int64
	now      func() time.Time

	mu    sync.Mutex
	gen   uint64 // counts Forgets: a read that began before one is not kept
	bytes int64
	lru   *list.List               // of *Paste, most recent first
	byID  map[string]*list.Element // into lru

	reading map[string]*cacheRead // Views' reads from the store, by id
}

// NewCache returns a Cache over store that holds at most maxBytes of paste
// contents. A paste larger than a quarter of maxBytes is not cached.
func NewCache(store Store, maxBytes int64) *Cache {
	return &Cache{store: store, maxBytes: maxBytes, now: time.Now, lru: list.New(), byID: map[string]*list.Element{}, reading: map[string]*cacheRead{}}
}

// Create stores p in the underlying Store. It does not keep p: the cache
// holds what is read, and a burst of new pastes, most of them read once if
// at all, would otherwise fill it (and the process's memory, about twice
// the cache's bytes with the collector's headroom) with pastes nobody
// asked for. The first read of a new paste goes to the Store and keeps it.
func (c *Cache) Create(ctx context.Context, p *Paste) error {
	return c.store.Create(ctx, p)
}

// Get returns the paste from memory, or from the underlying Store.
func (c *Cache) Get(ctx context.Context, id string) (*Paste, error) {
	return c.get(ctx, id, true)
}

// get returns the paste from memory (a copy with clone, else shared), or
// from the underlying Store, keeping it. A paste whose expiry has passed
// is gone.
func (c *Cache) get(ctx context.Context, id string, clone bool) (*Paste, error) {
	c.mu.Lock()
	if e, ok := c.byID[id]; ok {
		c.lru.MoveToFront(e)
		p := e.Value.(*Paste)
		if p.ExpiredAt(c.now()) {
			c.drop(e)
			c.mu.Unlock()
			return nil, fmt.Errorf("paste %s: %s: %w", id, Expired, ErrGone)
		}
		c.mu.Unlock()
		if clone {
			p = p.clone()
		}
		return p, nil
	}
	gen := c.gen
	var read *cacheRead
	if !clone {
		// Views of a paste that is being read share that read (a large
		// paste's decode), unless a Forget came since it began.
		if r, ok := c.reading[id]; ok && r.gen == gen {
			c.mu.Unlock()
			if p, ok := r.wait(ctx); ok {
				if p.ExpiredAt(c.now()) {
					return nil, fmt.Errorf("paste %s: %s: %w", id, Expired, ErrGone)
				}
				return p, nil
			}
			if err := ctx.Err(); err != nil {
				// The caller is gone: no read of its own for nobody.
				return nil, fmt.Errorf("paste %s: %w", id, err)
			}
			c.mu.Lock()
			gen = c.gen
		} else if !ok {
			read = &cacheRead{done: make(chan struct{}), gen: gen}
			c.reading[id] = read
		}
	}
	c.mu.Unlock()
	if read != nil {
		// Ended however the store's read ends: a read that panics
		// leaves its waiters to read on their own, not waiting on.
		read.err = errReadUnfinished
		defer c.endRead(id, read)
	}
	p, err := c.store.Get(ctx, id)
	if err == nil {
		// The store's paste is the Cache's own (Store.Get): a caller
		// that only shares it leaves it as it is, and it is kept
		// without a copy.
		c.add(p, gen, clone)
	}
	if read != nil {
		read.p, read.err = p, err
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// cacheRead is a View's read of a paste from the store, which other Views
// of it wait for; done closes once p and err are set.
type cacheRead struct {
	done chan struct{}
	gen  uint64 // Cache.gen when it began
	p    *Paste
	err  error
}

// errReadUnfinished is a cacheRead's error until its read of the store
// returns.
var errReadUnfinished = errors.New("paste: the read of the store did not return")

// endRead ends r, the read of paste id, waking the Views waiting for it.
func (c *Cache) endRead(id string, r *cacheRead) {
	c.mu.Lock()
	delete(c.reading, id)
	c.mu.Unlock()
	close(r.done)
}

// wait returns the paste r read, or false when the read failed (its
// reader's context may have ended: the caller then reads on its own) or
// ctx ended first.
func (r *cacheRead) wait(ctx context.Context) (*Paste, bool) {
	select {
	case <-r.done:
		return r.p, r.err == nil
	case <-ctx.Done():
		return nil, false
	}
}

// Remove forgets paste id and removes it from the underlying Store. It
// forgets it again once the Store is done: a read that began while the
// removal was under way found the paste still there, and is not kept.
func (c *Cache) Remove(ctx context.Context, id string, why Reason) error {
	c.Forget(id)
	defer c.Forget(id)
	return c.store.Remove(ctx, id, why)
}

// Burn forgets paste id and burns it in the underlying Store, forgetting
// it again once the Store is done (as Remove).
func (c *Cache) Burn(ctx context.Context, id string) (*Paste, error) {
	c.Forget(id)
	defer c.Forget(id)
	return c.store.Burn(ctx, id)
}

// Forget drops the pastes ids from memory: they were removed.
func (c *Cache) Forget(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, id := range ids {
		if e, ok := c.byID[id]; ok {
			c.drop(e)
		}
	}
}

// drop removes e from memory. The caller holds c.mu.
func (c *Cache) drop(e *list.Element) {
	old := c.lru.Remove(e).(*Paste)
	delete(c.byID, old.ID)
	c.bytes -= int64(len(old.Contents))
}

// add keeps p (a copy of it with clone: the caller may change p),
// evicting the least recently used pastes. A paste that burns after
// reading is not kept: its removal must be seen by every read.
// gen is c.gen when the read (or create) of p began: p is not kept when
// a Forget came since, as it may have removed p.
func (c *Cache) add(p *Paste, gen uint64, clone bool) {
	size := int64(len(p.Contents))
	if size > c.maxBytes/4 || p.Burn {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if _, ok := c.byID[p.ID]; ok {
		return
	}
	if clone {
		p = p.clone()
	}
	c.byID[p.ID] = c.lru.PushFront(p)
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.drop(c.lru.Back())
	}
}

// clone copies p, so that callers cannot change what the cache holds.
func (p *Paste) clone() *Paste {
	c := *p
	c.Contents = append([]byte(nil), p.Contents...)
	return &c
}
