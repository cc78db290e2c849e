package gitsync

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// Figures for BENCHMARKS.md, with PASTEUR_MEASURE=1 only (they take a
// minute and a half): how long a paste waits for its answer under each
// failure of the remote, with the defaults (AckTimeout 10 s, retries from
// 1 s to a minute), and how often pasteur connects to a refusing remote.

func measureOnly(t *testing.T) {
	if os.Getenv("PASTEUR_MEASURE") == "" {
		t.Skip("figures: PASTEUR_MEASURE=1")
	}
}

// TestMeasurePOSTLatency: a read miss, then 40 pastes, one every 250 ms,
// after the remote fails; the slowest, the median and the first.
func TestMeasurePOSTLatency(t *testing.T) {
	measureOnly(t)
	for _, mode := range []string{"down", "blackhole", "refusing"} {
		t.Run(mode, func(t *testing.T) {
			d := gittest.StartDaemon(t)
			url, dir := d.NewRepo(t, "pastes.git", true)
			p := startProxy(t, d.Addr)
			s := open(t, p.url(url), eager) // every read miss fetches
			mustCreate(t, s, &paste.Paste{ID: "before", Contents: []byte("pushed")})
			switch mode {
			case "down":
				d.Kill()
			case "blackhole":
				p.black.Store(true)
			case "refusing":
				hook := "#!/bin/sh\necho 'no' >&2\nexit 1\n"
				os.WriteFile(filepath.Join(dir, "hooks", "pre-receive"), []byte(hook), 0o755)
			}
			// A read miss while the remote is still believed reachable.
			t0 := time.Now()
			_, err := s.Get(context.Background(), "nosuchpaste00")
			miss := time.Since(t0)
			var took []time.Duration
			for i := range 40 {
				t0 := time.Now()
				if err := s.Create(context.Background(), &paste.Paste{ID: fmt.Sprintf("p%d", i), Contents: []byte("x")}); err != nil {
					t.Fatal(err)
				}
				took = append(took, time.Since(t0))
				if took[i] > 3*time.Second {
					t.Logf("paste %d took %v", i, took[i])
				}
				time.Sleep(250 * time.Millisecond)
			}
			first := took[0]
			slices.Sort(took)
			t.Logf("%s: POST latency first %v, median %v, max %v (40 pastes over %v); %d connections; a read miss first took %v (%v)",
				mode, first.Round(time.Millisecond), took[len(took)/2].Round(time.Millisecond),
				took[len(took)-1].Round(time.Millisecond), 40*250*time.Millisecond, p.conns.Load(), miss.Round(time.Millisecond), err)
		})
	}
}

// TestMeasureRefusingConns: connections to a refusing remote in the first
// minute after one paste.
func TestMeasureRefusingConns(t *testing.T) {
	measureOnly(t)
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	hook := "#!/bin/sh\necho 'no' >&2\nexit 1\n"
	os.WriteFile(filepath.Join(dir, "hooks", "pre-receive"), []byte(hook), 0o755)
	p := startProxy(t, d.Addr)
	s := open(t, p.url(url))
	n := p.conns.Load()
	mustCreate(t, s, &paste.Paste{ID: "refused", Contents: []byte("x")})
	time.Sleep(time.Minute)
	t.Logf("refusing remote: %d connections in the minute after one paste; status %+v", p.conns.Load()-n, s.Status())
}
