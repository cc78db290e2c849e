package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pasteur-dev/pasteur/bench/internal/fastimport"
	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/paste"
)

// loadStats is what a create load did.
type loadStats struct {
	ids     []string // acknowledged
	lat     []time.Duration
	took    time.Duration
	fails   int
	slowest time.Duration // when the slowest create began, from the load's start
}

func (l loadStats) rate() float64 { return float64(len(l.ids)) / l.took.Seconds() }

func (l loadStats) String() string {
	s := slices.Clone(l.lat)
	slices.Sort(s)
	pct := func(p int) time.Duration {
		if len(s) == 0 {
			return 0
		}
		return s[min(len(s)-1, len(s)*p/100)].Round(time.Millisecond)
	}
	return fmt.Sprintf("%d in %.1f s, %.1f/s, p50 %s, p99 %s, slowest %s (begun at %.1f s), %d failed",
		len(l.ids), l.took.Seconds(), l.rate(), pct(50), pct(99), pct(100), l.slowest.Seconds(), l.fails)
}

// createLoad runs clients that create pastes one after another each until
// stop is closed, d has passed or n pastes were made, whichever is first.
func createLoad(ctx context.Context, s *gitsync.Store, clients int, d time.Duration, n int, stop <-chan struct{}) loadStats {
	var mu sync.Mutex
	var out loadStats
	var made atomic.Int64
	end := time.Now().Add(d)
	t0 := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(rand.Uint64(), uint64(c)))
			for i := 0; made.Add(1) <= int64(n) && time.Now().Before(end); i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fastimport.ID(rng)
				t := time.Now()
				err := s.Create(ctx, &paste.Paste{ID: id, Contents: fmt.Appendf(nil, "created by client %d, %d\n", c, i)})
				lat := time.Since(t)
				mu.Lock()
				if err != nil {
					out.fails++
				} else {
					if len(out.lat) == 0 || lat > slices.Max(out.lat) {
						out.slowest = t.Sub(t0)
					}
					out.ids = append(out.ids, id)
					out.lat = append(out.lat, lat)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	out.took = time.Since(t0)
	return out
}
