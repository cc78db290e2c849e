// Package shard spreads pastes over several paste.Stores, one per Git
// repository (its shards), by the first character of their ids: a
// Router is a paste.Store that sends each Create and Get to the shard
// that holds the id, and makes the ids of new pastes in a shard that can
// take them.
//
// The shard of an id is the place of its first character in the alphabet
// of ids modulo the number of shards, so every id says its shard and nothing is looked up: a server
// that reads a paste made on another needs only the same number of
// shards. New ids are drawn at random until their first character falls
// in the chosen shard (log2(N) bits of the id are spent on the choice).
// Each shard is a store of its own, with its writer, its group commit and
// its queue: a shard whose remote is away delays its own pastes only, and
// new ids avoid it while others are ready.
package shard

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/pasteur-dev/pasteur/paste"
)

// MaxShards bounds the shards: more than the characters an id starts with
// would leave some empty.
const MaxShards = 36

// Router is a paste.Store over shards. It is safe for concurrent use as
// its shards are.
type Router struct {
	shards   []paste.Store
	ready    func(shard int) bool
	fallback int
	prefer   int
	next     atomic.Uint64 // round robin over the shards for new ids
}

var _ paste.Store = (*Router)(nil)

// Config describes a Router.
type Config struct {
	// Shards are the stores, in shard order: shard i is Shards[i]. At
	// least one, at most MaxShards.
	Shards []paste.Store

	// Ready reports whether shard i takes new pastes now (its remote is
	// reachable); NewID chooses among the shards that are, and among all
	// when none is. nil: every shard is ready.
	Ready func(shard int) bool

	// Prefer is the shard new ids go to while it is ready; -1: the
	// shards in turn. Servers that share shards write each to its own
	// (see the README's "Several instances"): servers writing to one
	// repository race to push, and lose most of their time redoing it.
	Prefer int

	// Fallback is a shard that may hold pastes of every shard, looked in
	// when an id's own shard does not have it: the repository from before
	// the pastes were sharded. -1: none.
	Fallback int
}

// New returns a Router over cfg's shards.
func New(cfg Config) (*Router, error) {
	n := len(cfg.Shards)
	if n < 1 || n > MaxShards {
		return nil, fmt.Errorf("shard: %d shards, want 1..%d", n, MaxShards)
	}
	if cfg.Fallback < -1 || cfg.Fallback >= n {
		return nil, fmt.Errorf("shard: fallback shard %d of %d", cfg.Fallback, n)
	}
	if cfg.Prefer < -1 || cfg.Prefer >= n {
		return nil, fmt.Errorf("shard: preferred shard %d of %d", cfg.Prefer, n)
	}
	ready := cfg.Ready
	if ready == nil {
		ready = func(int) bool { return true }
	}
	return &Router{shards: cfg.Shards, ready: ready, fallback: cfg.Fallback, prefer: cfg.Prefer}, nil
}

// Of returns the shard of id, which must not be empty, among shards: the
// place of its first character in the alphabet of new ids (a to z, then
// 0 to 9), or the byte's value for other characters, modulo shards.
func Of(id string, shards int) int {
	c := int(id[0])
	switch {
	case 'a' <= c && c <= 'z':
		c -= 'a'
	case '0' <= c && c <= '9':
		c = c - '0' + 26
	}
	return c % shards
}

// Shard returns the shard that holds id (-1 for an empty id).
func (r *Router) Shard(id string) int {
	if id == "" {
		return -1
	}
	return Of(id, len(r.shards))
}

// NewID returns a new random id of n characters (paste.NewID) in the
// preferred shard when it is ready, else in a shard that is ready, taken
// in turn.
func (r *Router) NewID(n int) (string, error) {
	k := len(r.shards)
	want := r.prefer
	if want < 0 || !r.ready(want) {
		start := int(r.next.Add(1) % uint64(k))
		want = start
		for i := range k {
			if s := (start + i) % k; r.ready(s) {
				want = s
				break
			}
		}
	}
	for {
		// Every shard has a character of the alphabet (k <= 36): this
		// takes k draws on average.
		id, err := paste.NewID(n)
		if err != nil || Of(id, k) == want {
			return id, err
		}
	}
}

// Create implements paste.Store: p goes to the shard of its id. The
// fallback shard is not asked whether it holds the id: new ids are random
// (64 bits or more), and a lookup there would fetch at every paste.
func (r *Router) Create(ctx context.Context, p *paste.Paste) error {
	if !paste.ValidID(p.ID) {
		return fmt.Errorf("shard: paste id %q: %w", p.ID, paste.ErrInvalid)
	}
	return r.shards[r.Shard(p.ID)].Create(ctx, p)
}

// Get implements paste.Store: it asks the shard of id, then the fallback
// shard when that one does not have it.
func (r *Router) Get(ctx context.Context, id string) (*paste.Paste, error) {
	if !paste.ValidID(id) {
		return nil, fmt.Errorf("shard: paste id %q: %w", id, paste.ErrNotFound)
	}
	s := r.Shard(id)
	p, err := r.shards[s].Get(ctx, id)
	if r.fallback >= 0 && s != r.fallback && errors.Is(err, paste.ErrNotFound) {
		return r.shards[r.fallback].Get(ctx, id)
	}
	return p, err
}

// Remove implements paste.Store: it removes id from its shard, or from the
// fallback shard when its shard never had it.
func (r *Router) Remove(ctx context.Context, id string, why paste.Reason) error {
	if !paste.ValidID(id) {
		return fmt.Errorf("shard: paste id %q: %w", id, paste.ErrNotFound)
	}
	s := r.Shard(id)
	err := r.shards[s].Remove(ctx, id, why)
	if r.fallback >= 0 && s != r.fallback && errors.Is(err, paste.ErrNotFound) {
		return r.shards[r.fallback].Remove(ctx, id, why)
	}
	return err
}

// Burn implements paste.Store: the shard that holds id burns it, so that
// exactly one Burn on any server returns the paste, as the shard's store
// promises.
func (r *Router) Burn(ctx context.Context, id string) (*paste.Paste, error) {
	if !paste.ValidID(id) {
		return nil, fmt.Errorf("shard: paste id %q: %w", id, paste.ErrNotFound)
	}
	s := r.Shard(id)
	p, err := r.shards[s].Burn(ctx, id)
	if r.fallback >= 0 && s != r.fallback && errors.Is(err, paste.ErrNotFound) {
		return r.shards[r.fallback].Burn(ctx, id)
	}
	return p, err
}
