package main

import "testing"

// TestMemoryWatch: memory is given back once at the end of a burst, and
// once after a light load stops; never under a steady load, nor while
// idle with nothing committed; after each fetch or push that comes when
// nothing was committed since the last time, but not during a load.
func TestMemoryWatch(t *testing.T) {
	const mib = 1 << 20
	type step struct {
		allocated, commits uint64
		give               bool
		remote             uint64 // fetches and pushes
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
		steady = append(steady, step{3 * mib, uint64(100 + i), false, 0})
	}
	for _, c := range []struct {
		name    string
		commits uint64 // at the start
		steps   []step
	}{
		{"burst", 0, append([]step{
			{10 * mib, 5, false, 0}, {20 * mib, 50, false, 0}, {12 * mib, 90, false, 0},
			{512 << 10, 90, true, 0}, // the burst ended
		}, repeat(2*idleTicks, step{0, 90, false, 0})...)},
		{"light load", 92, append(append([]step{{2 * mib, 93, false, 0}},
			repeat(idleTicks-1, step{100 << 10, 93, false, 0})...),
			step{100 << 10, 93, true, 0}, step{100 << 10, 93, false, 0})},
		{"steady", 99, steady},
		{"idle", 200, repeat(3*idleTicks, step{200 << 10, 200, false, 0})},
		{"fetches while idle", 7, append(append(repeat(5, step{100 << 10, 7, false, 0}),
			step{2 * mib, 7, true, 1}, step{100 << 10, 7, false, 1}, step{100 << 10, 7, false, 1}),
			step{100 << 10, 7, true, 2}, step{100 << 10, 7, false, 2})},
		{"fetches during a load", 0, []step{
			{2 * mib, 10, false, 0}, {2 * mib, 20, false, 1}, {2 * mib, 30, false, 2},
			{100 << 10, 30, false, 3}, // a push after the last commit: not yet idle
		}},
		{"a push after a burst's settle", 0, []step{
			{10 * mib, 50, false, 40}, {512 << 10, 50, true, 49},
			{100 << 10, 50, true, 50}, {100 << 10, 50, false, 50},
		}},
	} {
		w := newMemoryWatch(storeActivity{commits: c.commits})
		for i, s := range c.steps {
			if got := w.tick(s.allocated, storeActivity{s.commits, s.remote}); got != s.give {
				t.Errorf("%s, tick %d: give %v, want %v", c.name, i, got, s.give)
			}
		}
	}
}
