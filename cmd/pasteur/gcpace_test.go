package main

import (
	"slices"
	"testing"
)

// TestGCPace: GOGC 200 while the live heap is small, 100 past
// paceLiveMax, set only when it changes; nothing when GOGC is the
// operator's.
func TestGCPace(t *testing.T) {
	var calls []int
	set := func(n int) int { calls = append(calls, n); return 0 }
	p := &gcPace{percent: paceDefault, set: set}
	for _, live := range []uint64{0, 1 << 20, paceLiveMax + 1, paceLiveMax * 2, 1 << 20, 0} {
		p.tick(live)
	}
	if want := []int{paceFast, paceDefault, paceFast}; !slices.Equal(calls, want) {
		t.Fatalf("set %v, want %v", calls, want)
	}
	calls = nil
	off := &gcPace{off: true, percent: paceDefault, set: set}
	off.tick(0)
	off.tick(paceLiveMax * 2)
	if len(calls) != 0 {
		t.Fatalf("set %v with GOGC in the environment", calls)
	}
}
