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
// since the last settle and then nothing for idleTicks. And a server
// that committed nothing since the last settle settles again after a
// periodic fetch of its remote (every --sync-interval) or a push (with
// --ack disk the last pushes of a burst can come after its settle):
// those read the packs' indexes and trees back (2-3 MB after a load with
// --ack disk). Not after the fetches of read misses, which can come
// every second.
// Under a steady load none fires; each costs one settle and one
// collection.
const (
	memoryTick = time.Second
	busyBytes  = 8 << 20
	quietBytes = 1 << 20
	idleTicks  = 30
	freeBytes  = 1 << 20
)

// storeActivity is what the stores did so far: commits, and periodic
// fetches and pushes (remote).
type storeActivity struct{ commits, remote uint64 }

// memoryWatch decides, once a tick, whether to give memory back.
type memoryWatch struct {
	busy    bool
	commits uint64 // the stores' commits at the last tick
	settled uint64 // and when memory was last given back
	remote  uint64 // the stores' syncs and pushes when memory was last given back
	idle    int    // ticks since commits last moved
}

// newMemoryWatch starts a watch at the stores' activity so far.
func newMemoryWatch(a storeActivity) *memoryWatch {
	return &memoryWatch{commits: a.commits, settled: a.commits, remote: a.remote}
}

// tick takes the bytes allocated during the last tick and the stores'
// activity so far, and reports whether to give memory back now.
func (w *memoryWatch) tick(allocated uint64, a storeActivity) bool {
	if a.commits != w.commits {
		w.commits, w.idle = a.commits, 0
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
	case w.commits == w.settled && a.remote != w.remote:
		give = true // nothing committed since the last settle, but a fetch or push
	}
	if give {
		w.busy, w.settled, w.remote = false, w.commits, a.remote
	}
	return give
}

// returnMemory runs until ctx ends. activity returns what the stores did
// so far. It also sets the collector's pace once a tick (gcpace.go).
func returnMemory(ctx context.Context, activity func() storeActivity, settle func()) {
	pace := newGCPace()
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/heap/free:bytes"}}
	allocated := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	t := time.NewTicker(memoryTick)
	defer t.Stop()
	w := newMemoryWatch(activity())
	last := allocated()
	recheck := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := allocated()
		give := w.tick(now-last, activity())
		pace.tick(sample[1].Value.Uint64(), w.busy)
		switch {
		case give:
			settle()
			debug.FreeOSMemory()
			now = allocated()
			recheck = true
		case recheck:
			// Pages freed just after the settle's release (3.5 MB in
			// one run, which stayed): given back once more.
			recheck = false
			if sample[2].Value.Uint64() >= freeBytes {
				debug.FreeOSMemory()
				now = allocated()
			}
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
