package repo

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestMeasureRepack (PASTEUR_REPACK=DIR, a repository on disk, changed in
// place: give it a copy): repacks DIR and prints the figures, and the
// peak RSS of the test process; then the trees stored whole are made
// deltas (PlanTreeDeltas), with their figures.
func TestMeasureRepack(t *testing.T) {
	dir := os.Getenv("PASTEUR_REPACK")
	if dir == "" {
		t.Skip("figures: PASTEUR_REPACK=DIR (a copy: it is repacked in place)")
	}
	r := open(t, dir)
	for _, step := range []struct {
		what string
		plan func() (*Repacking, error)
	}{
		{"repack", func() (*Repacking, error) { return r.PlanRepack(1, false) }},
		{"tree deltas", r.PlanTreeDeltas},
	} {
		t0 := time.Now()
		rp, err := step.plan()
		if err != nil {
			t.Fatal(err)
		}
		if rp == nil {
			t.Logf("%s: nothing to do", step.what)
			continue
		}
		plan := time.Since(t0)
		if err := rp.Write(t.Context()); err != nil {
			rp.Discard()
			t.Fatal(err)
		}
		t1 := time.Now()
		if err := rp.Finish(); err != nil {
			t.Fatal(err)
		}
		finish := time.Since(t1)
		if err := rp.Sync(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v; plan %v, write %v, finish %v (the two held the lock); peak RSS %s", step.what, rp.Stats, plan, t1.Sub(t0)-plan, finish, peakRSS())
	}
}

// peakRSS returns VmHWM of this process.
func peakRSS() string {
	st, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(st), "\n") {
		if strings.HasPrefix(l, "VmHWM") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return ""
}
