// Command purgebench measures the purge of package gitsync (Store.Purge):
// the cost of rewriting a branch of 1,000, 10,000 and 100,000 pastes (one
// commit each, made with git fast-import) without the content of removed
// pastes, in time and memory, and the latency of pastes made while it
// runs, against the latency without a purge measured in the same run.
//
// Two cases per size: removed pastes spread over the whole history (the
// first paste among them, so every commit is rewritten: the worst case),
// and removed pastes among the last 1,000 only (a purge every hour sees
// that). The store has no remote: the push of the rewritten history is
// not measured here (e2e/lifecycle_test.go runs it against git daemon);
// the pack it would send is counted. Run it with
// `go run ./bench/purgebench` (no root needed).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pasteur-dev/pasteur/bench/internal/fastimport"
	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/paste"
)

func main() {
	sizes := flag.String("sizes", "1000,10000,100000", "comma-separated numbers of pastes")
	removed := flag.Float64("removed", 0.01, "share of the pastes removed")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the purges to this `file`")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fatalf("%v", err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	tmp, err := os.MkdirTemp("", "purgebench")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Printf("%-7s %-7s %7s %7s %9s %7s %7s %6s %9s %8s %7s %6s %9s %9s %9s %9s %9s %6s\n",
		"pastes", "case", "removed", "commits", "rewritten", "dropped", "objects", "pack", "rewrite", "locked", "alloc", "heap", "paste p50", "paste p99", "paste max", "base p50", "base max", "during")
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fatalf("-sizes: %v", err)
		}
		ids := generate(filepath.Join(tmp, fmt.Sprintf("gen-%d.git", n)), n)
		k := max(1, int(float64(n)**removed))
		for _, c := range []struct {
			name string
			pick []string
		}{
			{"spread", spread(ids, k)},
			{"recent", spread(ids[max(0, n-1000):], min(k, 1000))},
		} {
			dir := filepath.Join(tmp, fmt.Sprintf("%d-%s.git", n, c.name))
			if out, err := exec.Command("cp", "-a", filepath.Join(tmp, fmt.Sprintf("gen-%d.git", n)), dir).CombinedOutput(); err != nil {
				fatalf("cp: %v %s", err, out)
			}
			run(dir, c.name, n, c.pick)
			os.RemoveAll(dir)
		}
	}
}

// run removes ids from the repository in dir and measures a purge of it.
func run(dir, name string, n int, ids []string) {
	ctx := context.Background()
	s, err := gitsync.Open(ctx, gitsync.Config{Dir: dir})
	if err != nil {
		fatalf("open: %v", err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if err := s.Remove(ctx, id, paste.Deleted); err != nil {
				fatalf("remove %s: %v", id, err)
			}
		})
	}
	wg.Wait()

	base := latencies(ctx, s, 30, nil)

	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	var peak uint64
	done := make(chan struct{})
	var st gitsync.PurgeStats
	var perr error
	go func() {
		defer close(done)
		st, perr = s.Purge(ctx)
	}()
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	during := latencies(ctx, s, 1<<30, done)
	<-sampled
	if perr != nil {
		fatalf("purge: %v", perr)
	}
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	fmt.Printf("%-7d %-7s %7d %7d %9d %7d %7d %5.1fM %9s %8s %6.0fM %5.0fM %9s %9s %9s %9s %9s %6d\n",
		n, name, len(ids), st.Commits, st.Rewritten, st.Dropped, st.Objects, float64(st.PackBytes)/(1<<20),
		st.Rewrite.Round(time.Millisecond), st.Locked.Round(time.Millisecond), float64(m1.TotalAlloc-m0.TotalAlloc)/(1<<20), float64(peak-min(peak, m0.HeapInuse))/(1<<20),
		pct(during, 50), pct(during, 99), pct(during, 100), pct(base, 50), pct(base, 100), len(during))
}

// latencies makes pastes one after another, n of them or until stop is
// closed, and returns how long each took.
func latencies(ctx context.Context, s *gitsync.Store, n int, stop <-chan struct{}) []time.Duration {
	var out []time.Duration
	for i := 0; i < n; i++ {
		select {
		case <-stop:
			return out
		default:
		}
		t0 := time.Now()
		if err := s.Create(ctx, &paste.Paste{ID: randomID(), Contents: []byte(fmt.Sprintf("during %d\n", i))}); err != nil {
			fatalf("create: %v", err)
		}
		out = append(out, time.Since(t0))
	}
	return out
}

// pct is the p-th percentile of ds.
func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond).String()
}

// spread picks k of ids evenly, the first among them.
func spread(ids []string, k int) []string {
	var out []string
	for i := 0; i < k; i++ {
		out = append(out, ids[i*len(ids)/k])
	}
	return out
}

// generate makes the bare repository dir of n pastes, one commit each, in
// pasteur's layout, and returns their ids, oldest first.
func generate(dir string, n int) []string {
	im, err := fastimport.Start(dir)
	if err != nil {
		fatalf("%v", err)
	}
	ids := make([]string, n)
	for i := range n {
		id := randomID()
		ids[i] = id
		body := fmt.Sprintf(`{"contents":"paste %d\n","encrypted":false,"delete_hash":"sha256:%064x"}`+"\n", i, rand.Uint64())
		im.Commit("Paste "+id, fastimport.File(id[:1]+"/"+id[1:2]+"/"+id, body))
	}
	if err := im.Close(); err != nil {
		fatalf("%v", err)
	}
	return ids
}

// randomID is a new 13-character id, as pasteur makes them.
func randomID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 13)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "purgebench: "+format+"\n", args...)
	os.Exit(1)
}
