package paste

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// countingStore counts the Gets that reach it.
type countingStore struct {
	memStore
	gets int
}

func (c *countingStore) Get(ctx context.Context, id string) (*Paste, error) {
	c.gets++
	return c.memStore.Get(ctx, id)
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	under := &countingStore{memStore: memStore{pastes: map[string]*Paste{}}}
	c := NewCache(under, 400)
	for _, id := range []string{"a", "b", "c"} {
		if err := c.Create(ctx, &Paste{ID: id, Contents: []byte(strings.Repeat(id, 100))}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := c.Get(ctx, "a")
	if err != nil || under.gets != 0 || !bytes.Equal(p.Contents, bytes.Repeat([]byte("a"), 100)) {
		t.Fatalf("cached get: %v, %d gets below", err, under.gets)
	}
	p.Contents[0] = 'X' // the caller's copy
	if p, _ := c.Get(ctx, "a"); p.Contents[0] != 'a' {
		t.Fatal("a caller changed the cached paste")
	}
	// "b" is the least recently used: adding "d" and "e" evicts it.
	c.Create(ctx, &Paste{ID: "d", Contents: bytes.Repeat([]byte("d"), 100)})
	c.Create(ctx, &Paste{ID: "e", Contents: bytes.Repeat([]byte("e"), 100)})
	if _, err := c.Get(ctx, "b"); err != nil || under.gets != 1 {
		t.Fatalf("evicted paste: %v, %d gets below", err, under.gets)
	}
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("miss: %v", err)
	}
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) || under.gets != 3 {
		t.Fatalf("misses are not cached: %d gets below", under.gets)
	}
	big := &Paste{ID: "big", Contents: make([]byte, 101)}
	c.Create(ctx, big)
	c.Get(ctx, "big")
	if under.gets != 4 {
		t.Fatalf("a paste over a quarter of the cache was cached")
	}
}
