package main

import (
	"math"
	"slices"
	"testing"
)

// TestGCPace: GOGC 200 under a limit during a burst while the live heap
// is small, 100 and no limit past paceLiveMax or out of a burst, each set
// only when it changes; nothing when the environment sets them.
func TestGCPace(t *testing.T) {
	var gc []int
	var limits []int64
	p := &gcPace{setGC: func(n int) int { gc = append(gc, n); return 0 },
		setLimit: func(n int64) int64 { limits = append(limits, n); return 0 }}
	for _, s := range []struct {
		live uint64
		busy bool
	}{{0, false}, {0, true}, {1 << 20, true}, {paceLiveMax + 1, true}, {paceLiveMax * 2, true}, {1 << 20, true}, {0, true}, {0, false}, {0, false}} {
		p.tick(s.live, s.busy)
	}
	if want := []int{paceFast, paceDefault, paceFast, paceDefault}; !slices.Equal(gc, want) {
		t.Fatalf("GOGC %v, want %v", gc, want)
	}
	if want := []int64{paceLimit, math.MaxInt64, paceLimit, math.MaxInt64}; !slices.Equal(limits, want) {
		t.Fatalf("limits %v, want %v", limits, want)
	}
	gc, limits = nil, nil
	p.off, p.fast = true, false
	p.tick(0, true)
	p.tick(paceLiveMax*2, true)
	if len(gc)+len(limits) != 0 {
		t.Fatalf("set %v %v with GOGC in the environment", gc, limits)
	}
}
