package main

import (
	"math"
	"os"
	"runtime/debug"
)

// The collector's pace. With GOGC at 100, a create load collected every
// ~100 ms (the live heap is 10-30 MiB, and a create allocates ~40 KB):
// 8-10% of the CPU, and more in allocations made to wait for it. During
// a burst (the memory watch's, memory.go) and while the live heap is
// under paceLiveMax, pasteur runs at GOGC 200 under a soft memory limit
// of paceLimit: collections are half as frequent, and the heap still
// peaks near what GOGC 100 gives at paceLiveMax. Otherwise GOGC is 100
// and there is no limit, as before: a large repository (pack indexes, a
// completion) is never collected against a limit it outgrew, and once a
// burst ends the heap grows back as slowly as it did. The pace is set
// once a tick, from GOGC 100 with no limit at start. GOGC or GOMEMLIMIT
// in the environment turns it off: they are the operator's.
const (
	paceFast    = 200
	paceDefault = 100
	paceLiveMax = 32 << 20
	paceLimit   = 80 << 20
)

// gcPace sets GOGC and the soft memory limit from the live heap.
type gcPace struct {
	off      bool
	fast     bool
	setGC    func(int) int     // debug.SetGCPercent
	setLimit func(int64) int64 // debug.SetMemoryLimit
}

// newGCPace returns the pace, off when the environment sets GOGC or
// GOMEMLIMIT.
func newGCPace() *gcPace {
	return &gcPace{off: os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "",
		setGC: debug.SetGCPercent, setLimit: debug.SetMemoryLimit}
}

// tick sets the pace for live bytes of live heap, during a burst or not.
func (p *gcPace) tick(live uint64, busy bool) {
	fast := busy && live < paceLiveMax
	if p.off || fast == p.fast {
		return
	}
	p.fast = fast
	if fast {
		p.setLimit(paceLimit)
		p.setGC(paceFast)
		return
	}
	p.setGC(paceDefault)
	p.setLimit(math.MaxInt64)
}
