package paste

import (
	"container/list"
	"context"
	"sync"
)

// Cache is a Store that keeps recently read pastes in memory in front of
// another Store. Pastes never change once created, so a cached paste is
// never stale; misses are not cached, since a paste may arrive later (from
// another writer through the remote).
type Cache struct {
	store    Store
	maxBytes int64

	mu    sync.Mutex
	bytes int64
	lru   *list.List               // of *Paste, most recent first
	byID  map[string]*list.Element // into lru
}

// NewCache returns a Cache over store that holds at most maxBytes of paste
// contents. A paste larger than a quarter of maxBytes is not cached.
func NewCache(store Store, maxBytes int64) *Cache {
	return &Cache{store: store, maxBytes: maxBytes, lru: list.New(), byID: map[string]*list.Element{}}
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
	c.mu.Lock()
	if e, ok := c.byID[id]; ok {
		c.lru.MoveToFront(e)
		p := e.Value.(*Paste)
		c.mu.Unlock()
		return p.clone(), nil
	}
	c.mu.Unlock()
	p, err := c.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	c.add(p)
	return p, nil
}

// add keeps a copy of p, evicting the least recently used pastes.
func (c *Cache) add(p *Paste) {
	size := int64(len(p.Contents))
	if size > c.maxBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[p.ID]; ok {
		return
	}
	c.byID[p.ID] = c.lru.PushFront(p.clone())
	c.bytes += size
	for c.bytes > c.maxBytes {
		e := c.lru.Back()
		old := c.lru.Remove(e).(*Paste)
		delete(c.byID, old.ID)
		c.bytes -= int64(len(old.Contents))
	}
}

// clone copies p, so that callers cannot change what the cache holds.
func (p *Paste) clone() *Paste {
	c := *p
	c.Contents = append([]byte(nil), p.Contents...)
	return &c
}
