package repo

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestMeasureRepack (PASTEUR_REPACK=DIR, a repository on disk, changed in
// place: give it a copy): repacks DIR and prints the figures, and the
// peak RSS of the test process.
func TestMeasureRepack(t *testing.T) {
	dir := os.Getenv("PASTEUR_REPACK")
	if dir == "" {
		t.Skip("figures: PASTEUR_REPACK=DIR (a copy: it is repacked in place)")
	}
	r := open(t, dir)
	t0 := time.Now()
	rp, err := r.PlanRepack(1, false)
	if err != nil || rp == nil {
		t.Fatal(rp, err)
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
	st, _ := os.ReadFile("/proc/self/status")
	var hwm string
	for _, l := range strings.Split(string(st), "\n") {
		if strings.HasPrefix(l, "VmHWM") {
			hwm = strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	t.Logf("repack: %+v; plan %v, write %v, finish %v (the two held the lock); peak RSS %s", rp.Stats, plan, t1.Sub(t0)-plan, finish, hwm)
}
