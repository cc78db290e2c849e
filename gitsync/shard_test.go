package gitsync

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/shard"
)

// TestShardOutage: two stores, each on its own remote, behind a
// shard.Router. While shard 1's remote hangs, shard 0's pastes are pushed
// and acknowledged; shard 1's paste waits, and lands once its remote
// answers again.
func TestShardOutage(t *testing.T) {
	d := gittest.StartDaemon(t)
	url0, dir0 := d.NewRepo(t, "pastes-0.git", true)
	url1, dir1 := d.NewRepo(t, "pastes-1.git", true)
	var hang atomic.Bool
	release := make(chan struct{})
	host := &netx.Host{}
	hanging := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if hang.Load() {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return host.Dial(ctx, network, addr)
	}
	s0 := open(t, url0)
	// The ack timeout is long: shard 1's paste waits for its push.
	s1 := open(t, url1, func(c *Config) { c.Dial = hanging; c.AckTimeout = 10 * 60e9 })
	stores := []*Store{s0, s1}
	r, err := shard.New(shard.Config{
		Shards:   []paste.Store{s0, s1},
		Ready:    func(i int) bool { return stores[i].Status().Reachable },
		Fallback: -1,
		Prefer:   -1,
	})
	if err != nil {
		t.Fatal(err)
	}

	hang.Store(true)
	stuck := make(chan error, 1)
	go func() { stuck <- r.Create(context.Background(), &paste.Paste{ID: "bstuck", Contents: []byte("waits")}) }()
	for i := range 10 {
		id := fmt.Sprintf("a%03d", i)
		if err := r.Create(context.Background(), &paste.Paste{ID: id, Contents: []byte(id)}); err != nil {
			t.Fatal(err)
		}
		pathOf(t, dir0, id) // acknowledged: pushed
	}
	select {
	case err := <-stuck:
		t.Fatalf("shard 1's paste returned while its remote hangs: %v", err)
	default:
	}
	close(release)
	if err := <-stuck; err != nil {
		t.Fatal(err)
	}
	pathOf(t, dir1, "bstuck")
	if p, _ := pathIn(dir0, "bstuck"); p != "" {
		t.Errorf("bstuck also on shard 0 at %s", p)
	}
}
