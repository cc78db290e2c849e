package main

import "testing"

// TestMemoryWatch: memory is given back once at the end of a burst, and
// once after a light load stops; never under a steady load, nor while
// idle with nothing committed.
func TestMemoryWatch(t *testing.T) {
	const mib = 1 << 20
	type step struct {
		allocated, commits uint64
		give               bool
	}
	repeat := func(n int, s step) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	var steady []step
	for i := range 3 * idleTicks {
		steady = append(steady, step{3 * mib, uint64(100 + i), false})
	}
	for _, c := range []struct {
		name    string
		commits uint64 // at the start
		steps   []step
	}{
		{"burst", 0, append([]step{
			{10 * mib, 5, false}, {20 * mib, 50, false}, {12 * mib, 90, false},
			{512 << 10, 90, true}, // the burst ended
		}, repeat(2*idleTicks, step{0, 90, false})...)},
		{"light load", 92, append(append([]step{{2 * mib, 93, false}},
			repeat(idleTicks-1, step{100 << 10, 93, false})...),
			step{100 << 10, 93, true}, step{100 << 10, 93, false})},
		{"steady", 99, steady},
		{"idle", 200, repeat(3*idleTicks, step{200 << 10, 200, false})},
	} {
		w := newMemoryWatch(c.commits)
		for i, s := range c.steps {
			if got := w.tick(s.allocated, s.commits); got != s.give {
				t.Errorf("%s, tick %d: give %v, want %v", c.name, i, got, s.give)
			}
		}
	}
}
