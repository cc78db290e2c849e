package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Memory after a burst. The Go runtime keeps the heap it grew during a
// burst of pastes (twice the live heap, with GOGC at 100) and returns the
// pages slowly; a server that is idle afterwards holds them for minutes.
// returnMemory collects once and returns the free pages to the system when
// a burst ends: when a second allocated more than busyBytes and the next
// one less than quietBytes. It costs one collection a burst.
const (
	memoryTick = time.Second
	busyBytes  = 8 << 20
	quietBytes = 1 << 20
)

// returnMemory runs until ctx ends.
func returnMemory(ctx context.Context) {
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
			debug.FreeOSMemory()
		}
		last = now
	}
}
