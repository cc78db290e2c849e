package main

import (
	"math"
	"slices"
	"testing"
)

// TestGCPace: GOGC 200 under a limit while the live heap is small, 100
// and no limit past paceLiveMax, each set only when it changes; nothing
// when the environment sets them.
func TestGCPace(t *testing.T) {
	var gc []int
	var limits []int64
	p := &gcPace{setGC: func(n int) int { gc = append(gc, n); return 0 },
		setLimit: func(n int64) int64 { limits = append(limits, n); return 0 }}
	for _, live := range []uint64{0, 1 << 20, paceLiveMax + 1, paceLiveMax * 2, 1 << 20, 0} {
		p.tick(live)
	}
	if want := []int{paceFast, paceDefault, paceFast}; !slices.Equal(gc, want) {
		t.Fatalf("GOGC %v, want %v", gc, want)
	}
	if want := []int64{paceLimit, math.MaxInt64, paceLimit}; !slices.Equal(limits, want) {
		t.Fatalf("limits %v, want %v", limits, want)
	}
	gc, limits = nil, nil
	p.off, p.fast = true, false
	p.tick(0)
	p.tick(paceLiveMax * 2)
	if len(gc)+len(limits) != 0 {
		t.Fatalf("set %v %v with GOGC in the environment", gc, limits)
	}
}
