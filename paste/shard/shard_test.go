package shard_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
	"github.com/pasteur-dev/pasteur/paste/shard"
)

func newRouter(t *testing.T, n int, cfg shard.Config) (*shard.Router, []*pastetest.Store) {
	t.Helper()
	stores := make([]*pastetest.Store, n)
	cfg.Shards = make([]paste.Store, n)
	for i := range stores {
		stores[i] = &pastetest.Store{}
		cfg.Shards[i] = stores[i]
	}
	r, err := shard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, stores
}

func TestContract(t *testing.T) {
	pastetest.TestStore(t, func(t *testing.T) paste.Store {
		r, _ := newRouter(t, 3, shard.Config{Fallback: -1, Prefer: -1})
		return r
	})
}

// TestRouting: each paste is in the shard its id names, and only there;
// new ids take the shards in turn.
func TestRouting(t *testing.T) {
	r, stores := newRouter(t, 3, shard.Config{Fallback: -1, Prefer: -1})
	per := make([]int, 3)
	for range 60 {
		id, err := r.NewID(paste.DefaultIDLength)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Create(context.Background(), &paste.Paste{ID: id, Contents: []byte(id)}); err != nil {
			t.Fatal(err)
		}
		per[r.Shard(id)]++
	}
	for i, s := range stores {
		for id := range s.Pastes() {
			if shard.Of(id, 3) != i {
				t.Errorf("%s in shard %d, its id says %d", id, i, shard.Of(id, 3))
			}
		}
		if per[i] != 20 || len(s.Pastes()) != 20 {
			t.Errorf("shard %d: %d new ids, %d pastes; want 20", i, per[i], len(s.Pastes()))
		}
	}
	// Every shard is reachable by some id of the alphabet, up to MaxShards.
	for n := 1; n <= shard.MaxShards; n++ {
		seen := map[int]bool{}
		for _, c := range "abcdefghijklmnopqrstuvwxyz0123456789" {
			seen[shard.Of(string(c), n)] = true
		}
		if len(seen) != n {
			t.Errorf("%d shards: ids reach %d", n, len(seen))
		}
	}
	if _, err := shard.New(shard.Config{Fallback: -1, Prefer: -1}); err == nil {
		t.Error("no shards accepted")
	}
}

// TestReady: new ids avoid shards that are not ready, and fall back to
// all when none is.
func TestReady(t *testing.T) {
	down := map[int]bool{1: true}
	r, _ := newRouter(t, 3, shard.Config{Fallback: -1, Prefer: -1, Ready: func(i int) bool { return !down[i] }})
	for range 30 {
		id, _ := r.NewID(8)
		if r.Shard(id) == 1 {
			t.Fatalf("%s in shard 1, which is down", id)
		}
	}
	down[0], down[2] = true, true
	seen := map[int]bool{}
	for range 30 {
		id, _ := r.NewID(8)
		seen[r.Shard(id)] = true
	}
	if len(seen) != 3 {
		t.Errorf("all down: ids in %v, want every shard", seen)
	}
}

// TestFallback: a paste of shard 1 kept in the fallback shard 0 (written
// before sharding) is found there.
func TestFallback(t *testing.T) {
	r, stores := newRouter(t, 2, shard.Config{Fallback: 0, Prefer: -1})
	old := "b" + "oldpaste" // shard 1 of 2
	if shard.Of(old, 2) != 1 {
		t.Fatal("test id not in shard 1")
	}
	stores[0].Create(context.Background(), &paste.Paste{ID: old, Contents: []byte("from before")})
	if p, err := r.Get(context.Background(), old); err != nil || string(p.Contents) != "from before" {
		t.Errorf("Get through the fallback: %v %v", p, err)
	}
	if _, err := r.Get(context.Background(), "bmissing"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}

// blocking is a store whose Create waits for release.
type blocking struct {
	paste.Store
	release chan struct{}
}

func (b blocking) Create(ctx context.Context, p *paste.Paste) error {
	<-b.release
	return b.Store.Create(ctx, p)
}

// TestOutage: a shard that cannot take pastes holds up its own only.
func TestOutage(t *testing.T) {
	slow := blocking{&pastetest.Store{}, make(chan struct{})}
	fast := &pastetest.Store{}
	r, err := shard.New(shard.Config{Shards: []paste.Store{fast, slow}, Fallback: -1, Prefer: -1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Create(context.Background(), &paste.Paste{ID: "bstuck", Contents: []byte("x")}) }()
	for i := range 20 {
		id := fmt.Sprintf("a%02d", i)
		if err := r.Create(context.Background(), &paste.Paste{ID: id, Contents: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("the blocked shard's paste returned early: %v", err)
	default:
	}
	close(slow.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPrefer: new ids go to the preferred shard while it is ready, and to
// the others when it is not.
func TestPrefer(t *testing.T) {
	down := false
	r, _ := newRouter(t, 3, shard.Config{Fallback: -1, Prefer: 2, Ready: func(i int) bool { return i != 2 || !down }})
	for range 20 {
		if id, _ := r.NewID(8); r.Shard(id) != 2 {
			t.Fatalf("%s not in the preferred shard", id)
		}
	}
	down = true
	for range 20 {
		if id, _ := r.NewID(8); r.Shard(id) == 2 {
			t.Fatalf("%s in the preferred shard, which is down", id)
		}
	}
}
