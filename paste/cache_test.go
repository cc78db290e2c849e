package paste_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
)

// countingStore counts the Gets that reach it.
type countingStore struct {
	pastetest.Store
	gets int
}

func (c *countingStore) Get(ctx context.Context, id string) (*paste.Paste, error) {
	c.gets++
	return c.Store.Get(ctx, id)
}

// TestCacheContract runs the Store contract on a cache that keeps every
// paste, and on one too small to keep any.
func TestCacheContract(t *testing.T) {
	for name, size := range map[string]int64{"keeps": 64 << 20, "keeps none": 0} {
		t.Run(name, func(t *testing.T) {
			pastetest.TestStore(t, func(t *testing.T) paste.Store { return paste.NewCache(&pastetest.Store{}, size) })
		})
	}
}

// TestStoreContract runs the Store contract on pastetest's Store, which
// the other packages' tests stand on.
func TestStoreContract(t *testing.T) {
	pastetest.TestStore(t, func(t *testing.T) paste.Store { return &pastetest.Store{} })
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	under := &countingStore{}
	c := paste.NewCache(under, 400)
	for _, id := range []string{"a", "b", "c"} {
		if err := c.Create(ctx, &paste.Paste{ID: id, Contents: []byte(strings.Repeat(id, 100))}); err != nil {
			t.Fatal(err)
		}
	}
	// Created pastes are not kept: the first read goes below, and keeps them.
	for _, id := range []string{"a", "b", "c"} {
		if _, err := c.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if under.gets != 3 {
		t.Fatalf("first reads: %d gets below, want 3", under.gets)
	}
	p, err := c.Get(ctx, "a")
	if err != nil || under.gets != 3 || !bytes.Equal(p.Contents, bytes.Repeat([]byte("a"), 100)) {
		t.Fatalf("cached get: %v, %d gets below", err, under.gets)
	}
	p.Contents[0] = 'X' // the caller's copy
	if p, _ := c.Get(ctx, "a"); p.Contents[0] != 'a' {
		t.Fatal("a caller changed the cached paste")
	}
	// "b" is the least recently used: reading "d" and "e" evicts it.
	c.Create(ctx, &paste.Paste{ID: "d", Contents: bytes.Repeat([]byte("d"), 100)})
	c.Create(ctx, &paste.Paste{ID: "e", Contents: bytes.Repeat([]byte("e"), 100)})
	c.Get(ctx, "d")
	c.Get(ctx, "e")
	if _, err := c.Get(ctx, "b"); err != nil || under.gets != 6 {
		t.Fatalf("evicted paste: %v, %d gets below", err, under.gets)
	}
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, paste.ErrNotFound) {
		t.Fatalf("miss: %v", err)
	}
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, paste.ErrNotFound) || under.gets != 8 {
		t.Fatalf("misses are not cached: %d gets below", under.gets)
	}
	big := &paste.Paste{ID: "big", Contents: make([]byte, 101)}
	c.Create(ctx, big)
	c.Get(ctx, "big")
	c.Get(ctx, "big")
	if under.gets != 10 {
		t.Fatalf("a paste over a quarter of the cache was cached")
	}
}

// slowRemoveStore is a Store whose Remove waits for release before it
// removes, as a store's commit and push of a removal take a while,
// during which its Get still finds the paste.
type slowRemoveStore struct {
	pastetest.Store
	removing chan struct{} // closed once Remove has begun
	release  chan struct{}
}

func (s *slowRemoveStore) Remove(ctx context.Context, id string, why paste.Reason) error {
	close(s.removing)
	<-s.release
	return s.Store.Remove(ctx, id, why)
}

// TestCacheReadDuringRemove: a paste read while its removal is under way
// (found, since the store has not removed it yet) is not kept: once
// Remove returns, no read finds it.
func TestCacheReadDuringRemove(t *testing.T) {
	ctx := context.Background()
	for _, view := range []bool{false, true} {
		s := &slowRemoveStore{removing: make(chan struct{}), release: make(chan struct{})}
		if err := s.Create(ctx, &paste.Paste{ID: "a", Contents: []byte("abc")}); err != nil {
			t.Fatal(err)
		}
		c := paste.NewCache(s, 1<<20)
		read := c.Get
		if view {
			read = c.View
		}
		removed := make(chan error, 1)
		go func() { removed <- c.Remove(ctx, "a", paste.Deleted) }()
		<-s.removing
		if p, err := read(ctx, "a"); err != nil || string(p.Contents) != "abc" {
			t.Fatalf("view %v: a read while the removal is under way: %+v, %v", view, p, err)
		}
		close(s.release)
		if err := <-removed; err != nil {
			t.Fatal(err)
		}
		if p, err := read(ctx, "a"); !errors.Is(err, paste.ErrGone) {
			t.Fatalf("view %v: a read once removed: %+v, %v; want ErrGone", view, p, err)
		}
	}
}
