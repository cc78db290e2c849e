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
// returnMemory collects once and returns the free pages to the system when
// a burst ends: when a second allocated more than busyBytes and the next
// one less than quietBytes. Before that it calls settle, which gives back
// what the stores keep for speed under load (gitsync.Store.Settle). It
// costs one collection and one settle a burst.
const (
	memoryTick = time.Second
	busyBytes  = 8 << 20
	quietBytes = 1 << 20
)

// returnMemory runs until ctx ends.
func returnMemory(ctx context.Context, settle func()) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	t := time.NewTicker(memoryTick)
	defer t.Stop()
	last, busy := allocated(), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := allocated()
		switch d := now - last; {
		case d >= busyBytes:
			busy = true
		case busy && d < quietBytes:
			busy = false
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
				log.Warn("settle after a burst", "shard", i, "err", err)
			}
		}
		log.Debug("settled after a burst", "took", time.Since(start))
	}
}
