package gitsync

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// TestPurgeRewriteRefused: a git daemon's repository with
// receive.denyNonFastForwards refuses the purge's rewrite of the branch.
// The purge says so (ErrRewriteRefused); the purges that follow back
// off, doubling from the interval, with one warning or error logged for
// the lot; once the remote allows rewrites, a purge succeeds and the
// next one is due again at the interval.
func TestPurgeRewriteRefused(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	git(t, dir, "config", "receive.denyNonFastForwards", "true")
	var warns, sent atomic.Int64
	s := open(t, url, countWarnings(t, &warns), func(c *Config) { c.purgeSent = func() { sent.Add(1) } })
	mustCreate(t, s, &paste.Paste{ID: "secret", Contents: []byte("a secret pasted by mistake")})
	mustCreate(t, s, &paste.Paste{ID: "keep", Contents: []byte("kept")})
	remove := func(id string) {
		t.Helper()
		if err := s.Remove(context.Background(), id, paste.Deleted); err != nil {
			t.Fatal(err)
		}
	}
	remove("secret")

	_, err := s.Purge(context.Background())
	if !errors.Is(err, ErrRewriteRefused) || !errors.Is(err, paste.ErrUnavailable) {
		t.Fatalf("purge: %v; want ErrRewriteRefused", err)
	}
	if sent.Load() != 1 {
		t.Fatalf("the purge sent its history %d times, want 1", sent.Load())
	}

	// The loop's ticks, an interval apart: a purge at 0, then at 2, 6 and
	// 14 intervals (the pause doubling from two intervals), not at every
	// tick.
	const interval = time.Hour
	b := purgeBackoff{interval: interval}
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	var ran []int
	for tick := range 15 {
		before := sent.Load()
		s.purgeTick(context.Background(), &b, t0.Add(time.Duration(tick)*interval))
		if sent.Load() != before {
			ran = append(ran, tick)
		}
	}
	if want := []int{0, 2, 6, 14}; !slices.Equal(ran, want) {
		t.Errorf("purges at ticks %v, want %v", ran, want)
	}
	if n := warns.Load(); n != 1 {
		t.Errorf("%d warnings or errors logged for %d refused purges, want 1", n, len(ran))
	}

	// The remote takes rewrites again: the next purge due succeeds, and
	// resets the pause.
	git(t, dir, "config", "receive.denyNonFastForwards", "false")
	if !s.purgeTick(context.Background(), &b, t0.Add(30*interval)) {
		t.Fatal("no purge 30 intervals on")
	}
	if b.delay != 0 {
		t.Fatalf("the purge 30 intervals on did not succeed: pause %v", b.delay)
	}
	remove("keep")
	if !s.purgeTick(context.Background(), &b, t0.Add(31*interval)) {
		t.Error("no purge the interval after a purge that succeeded")
	}
}

// TestPurgeBackoff: the pause after refused rewrites doubles from two
// intervals up to a day (or the interval, when longer), and a purge that
// succeeds ends it.
func TestPurgeBackoff(t *testing.T) {
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	b := purgeBackoff{interval: time.Hour}
	var delays []time.Duration
	for range 8 {
		b.refused(now)
		delays = append(delays, b.delay)
	}
	want := []time.Duration{2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 16 * time.Hour, 24 * time.Hour, 24 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("pauses %v, want %v", delays, want)
		}
	}
	if b.due(now.Add(23*time.Hour)) || !b.due(now.Add(24*time.Hour)) {
		t.Error("due before the pause ended, or not after")
	}
	b.succeeded()
	if !b.due(now) {
		t.Error("not due after a purge that succeeded")
	}
	long := purgeBackoff{interval: 48 * time.Hour}
	long.refused(now)
	long.refused(now)
	if long.delay != 48*time.Hour {
		t.Errorf("pause with a 48h interval: %v, want 48h", long.delay)
	}
}

// TestRefusesRewrites: the reasons of remotes that refuse force pushes
// are told from other refusals.
func TestRefusesRewrites(t *testing.T) {
	for _, tc := range []struct {
		reason string
		want   bool
	}{
		{"non-fast-forward (the remote says: error: denying non-fast-forward refs/heads/master (you should pull first))", true},
		{"protected branch hook declined (the remote says: remote: error: GH006: Protected branch update failed for refs/heads/main.; remote: error: Cannot force-push to this branch)", true},
		{"pre-receive hook declined (the remote says: GitLab: You are not allowed to force push code to a protected branch on this project.)", true},
		{"pre-receive hook declined (the remote says: Gitea: Not allowed to force push to protected branch main)", true},
		{"pre-receive hook declined (the remote says: over quota)", false},
		{"unpack: index-pack abnormal exit", false},
		{"", false},
	} {
		if got := refusesRewrites(tc.reason); got != tc.want {
			t.Errorf("refusesRewrites(%q) = %v, want %v", tc.reason, got, tc.want)
		}
	}
}
