package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Memory after a burst. The Go runtime keeps the heap it grew during a
// burst of pastes (twice the live heap, with GOGC at 100) and returns the
// pages slowly; a server that is idle afterwards holds them for minutes.
// And the stores keep, for speed under load, packs waiting for a merge
// and decoded trees (gitsync.Store.Settle).
//
// returnMemory settles the stores, collects once and returns the free
// pages to the system when a burst ends: when a second allocated more
// than busyBytes and the next one less than quietBytes. A load too light
// to make a burst is settled once it stops: when the stores committed
// since the last settle and then nothing for idleTicks. Under a steady
// load neither fires; each costs one settle and one collection.
const (
	memoryTick = time.Second
	busyBytes  = 8 << 20
	quietBytes = 1 << 20
	idleTicks  = 30
)

// memoryWatch decides, once a tick, whether to give memory back.
type memoryWatch struct {
	busy    bool
	commits uint64 // the stores' commits at the last tick
	settled uint64 // and when memory was last given back
	idle    int    // ticks since commits last moved
}

// newMemoryWatch starts a watch at the stores' commits so far.
func newMemoryWatch(commits uint64) *memoryWatch {
	return &memoryWatch{commits: commits, settled: commits}
}

// tick takes the bytes allocated during the last tick and the stores'
// commits so far, and reports whether to give memory back now.
func (w *memoryWatch) tick(allocated, commits uint64) bool {
	if commits != w.commits {
		w.commits, w.idle = commits, 0
	} else {
		w.idle++
	}
	give := false
	switch {
	case allocated >= busyBytes:
		w.busy = true
	case w.busy && allocated < quietBytes:
		give = true
	case w.commits != w.settled && w.idle >= idleTicks:
		give = true
	}
	if give {
		w.busy, w.settled = false, w.commits
	}
	return give
}

// returnMemory runs until ctx ends. commits returns the stores' commits
// so far. It also sets the collector's pace once a tick (gcpace.go).
func returnMemory(ctx context.Context, commits func() uint64, settle func()) {
	pace := newGCPace()
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	allocated := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	t := time.NewTicker(memoryTick)
	defer t.Stop()
	w := newMemoryWatch(commits())
	last := allocated()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := allocated()
		give := w.tick(now-last, commits())
		pace.tick(sample[1].Value.Uint64(), w.busy)
		if give {
			settle()
			debug.FreeOSMemory()
			now = allocated()
		}
		last = now
	}
}

// settleStores is returnMemory's settle for every shard's store.
func settleStores(s *stores, log *slog.Logger) func() {
	return func() {
		start := time.Now()
		for i, st := range s.shards {
			if err := st.Settle(); err != nil {
				log.Warn("settle", "shard", i, "err", err)
			}
		}
		log.Debug("settled", "took", time.Since(start))
	}
}
