package main

import (
	"os"
	"runtime/debug"
)

// The collector's pace. With GOGC at 100, a create load collected every
// ~250 pastes (the live heap is 10-20 MiB, and a create allocates
// ~40 KB): 8-10% of the CPU, and more in allocations made to wait for
// it. pasteur runs at GOGC 200 while the live heap is small, which cut
// the CPU a create by ~13% (BENCHMARKS.md, issue 16), and at 100 past
// paceLiveMax, so that what the higher pace adds to the peak heap stays
// bounded: a large repository's live heap (pack indexes, a completion)
// grows the heap by no more than before. The memory given back after a
// burst (memory.go) does not depend on it. GOGC in the environment is
// left to the operator, as GOMEMLIMIT is.
const (
	paceFast    = 200
	paceDefault = 100
	paceLiveMax = 32 << 20
)

// gcPace sets GOGC from the live heap, unless the environment sets it.
type gcPace struct {
	off     bool
	percent int
	set     func(int) int // debug.SetGCPercent
}

// newGCPace starts the pace at paceFast, or off when GOGC is set.
func newGCPace() *gcPace {
	p := &gcPace{off: os.Getenv("GOGC") != "", percent: paceDefault, set: debug.SetGCPercent}
	p.tick(0)
	return p
}

// tick sets the pace for live bytes of live heap.
func (p *gcPace) tick(live uint64) {
	if p.off {
		return
	}
	want := paceFast
	if live > paceLiveMax {
		want = paceDefault
	}
	if want != p.percent {
		p.set(want)
		p.percent = want
	}
}
