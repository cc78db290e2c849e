// Command purgebench measures the purge of package gitsync (Store.Purge)
// on one shard: the rewrite of a branch of N pastes without the content
// of removed pastes, pushed to a git daemon on loopback, in time, memory
// (the heap's growth and the process's peak RSS) and bytes pushed, with
// creates running meanwhile (their rate and slowest answer against the
// same load just before), and what the remote holds after (its size,
// `git fsck`, every acknowledged paste there, no purged content left in
// its history).
//
// The repositories are made with git fast-import in pasteur's adaptive
// layout, 64 pastes a commit (-group), as pasteur's group commit writes
// them under load: 1M pastes are ~16k commits. Two cases per size:
// removed pastes spread over the whole history (the first paste among
// them, so every commit is rewritten: the worst case), and removed
// pastes among the last 1,000 only, on a store that purged before (its
// mark, refs/pasteur/purged, on the generated tip): what an hourly purge
// meets. Run it
// with `go run ./bench/purgebench` (no root needed; only loopback).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pasteur-dev/pasteur/bench/internal/machine"
	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
)

// options are the command's flags.
type options struct {
	group      int
	clients    int
	base       time.Duration
	maxDuring  time.Duration
	maxCreates int
	maxPurge   time.Duration
	verbose    bool
	noRemote   bool
}

func main() {
	sizes := flag.String("sizes", "10000,100000", "comma-separated numbers of pastes")
	cases := flag.String("cases", "spread,recent", "which cases to run: spread (the first paste removed, every commit rewritten), recent (removed pastes among the last 1,000)")
	removed := flag.Float64("removed", 0.01, "share of the pastes removed")
	data := flag.String("data", "", "keep the generated repositories in this `dir` (gen-N-G.git and its ids), made when missing and reused when present; the runs' copies go there too (git clone --local: hard links); \"\" is a temporary directory")
	genOnly := flag.Bool("generate", false, "only make the repositories of -sizes in -data, and exit")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the purges to this `file`")
	var o options
	flag.IntVar(&o.group, "group", 64, "pastes per generated commit")
	flag.IntVar(&o.clients, "clients", 4, "clients creating pastes, one after another each, before and during the purge")
	flag.DurationVar(&o.base, "base", 10*time.Second, "how long the creates run before the purge (the baseline)")
	flag.DurationVar(&o.maxDuring, "max-during", 10*time.Minute, "the creates during the purge stop after this long, if the purge has not ended")
	flag.IntVar(&o.maxCreates, "max-creates", 50000, "the creates during the purge stop after this many")
	flag.DurationVar(&o.maxPurge, "max-purge", 30*time.Minute, "a purge not done after this long is cancelled, and the run reports it")
	flag.BoolVar(&o.verbose, "v", false, "show the store's log")
	flag.BoolVar(&o.noRemote, "no-remote", false, "purge a store without a remote (its repository alone: the rewrite, without the pushes)")
	flag.Parse()

	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "purgebench")
		if err != nil {
			fatalf("%v", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fatalf("%v", err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("purgebench: %s, %s, %d clients, commits of %d pastes, load %s\n", time.Now().UTC().Format(time.RFC3339), machine.Hardware(), o.clients, o.group, machine.LoadAvg())
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fatalf("-sizes: %v", err)
		}
		gen, ids := cachedRepo(dir, n, o.group)
		if *genOnly {
			continue
		}
		k := max(1, int(float64(n)**removed))
		for _, c := range strings.Split(*cases, ",") {
			var pick []string
			switch c {
			case "spread":
				pick = spread(ids, k)
			case "recent":
				pick = spread(ids[max(0, n-1000):], min(k, 1000))
			default:
				fatalf("-cases: unknown case %q", c)
			}
			work := filepath.Join(dir, fmt.Sprintf("run-%d-%s", n, c))
			os.RemoveAll(work)
			run(gen, work, fmt.Sprintf("%d %s", n, c), pick, c == "recent", o)
			os.RemoveAll(work)
		}
	}
}

// run copies the repository gen to a remote served by git daemon and to a
// store's local repository in work, removes ids, and measures a purge.
func run(gen, work, name string, ids []string, purgedBefore bool, o options) {
	remote := filepath.Join(work, "remote.git")
	local := filepath.Join(work, "local.git")
	gitRun("", "clone", "-q", "--bare", "--local", gen, remote)
	gitRun("", "clone", "-q", "--bare", "--local", remote, local)
	gitRun(local, "update-ref", "refs/remotes/origin/master", "master")
	if purgedBefore {
		gitRun(local, "update-ref", "refs/pasteur/purged", "master")
	}
	blobs := blobsOf(remote, ids)
	sizeBefore := packSize(remote)

	ctx := context.Background()
	var h slog.Handler = slog.DiscardHandler
	if o.verbose {
		h = slog.NewTextHandler(os.Stderr, nil)
	}
	scanned := newWatch(h, "scanned the pastes that expire")
	cfg := gitsync.Config{Dir: local, AckTimeout: time.Minute, SyncInterval: -1, Logger: slog.New(scanned)}
	d := &daemon{}
	if !o.noRemote {
		d = startDaemon(work)
		defer d.kill()
		host := &netx.Host{}
		cfg.Remote, cfg.Dial = "git://"+d.addr+"/remote.git", host.Dial
	} else {
		remote = local
	}
	s, err := gitsync.Open(ctx, cfg)
	if err != nil {
		fatalf("open: %v", err)
	}
	t0 := time.Now()
	select {
	case <-scanned.c:
	case <-time.After(15 * time.Minute):
		fatalf("the store's scan at start did not end in 15 minutes")
	}
	scan := time.Since(t0)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.Remove(ctx, id, paste.Deleted); err != nil {
				fatalf("remove %s: %v", id, err)
			}
		})
	}
	wg.Wait()

	base := createLoad(ctx, s, o.clients, o.base, 1<<30, nil)

	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rssBefore := resetPeakRSS()
	done := make(chan struct{})
	var st gitsync.PurgeStats
	var perr error
	go func() {
		defer close(done)
		pctx, cancel := context.WithTimeout(ctx, o.maxPurge)
		defer cancel()
		st, perr = s.Purge(pctx)
	}()
	var peak uint64
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
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	during := createLoad(ctx, s, o.clients, o.maxDuring, o.maxCreates, done)
	<-done
	<-sampled
	rssPeak := peakRSS()
	if errors.Is(perr, context.DeadlineExceeded) {
		fmt.Printf("\n%s: removed %d, load %s\n  purge: not done after %s (-max-purge); RSS %.0f MiB before, peak %.0f MiB\n  creates before: %s\n  creates during: %s\n",
			name, len(ids), machine.LoadAvg(), o.maxPurge, float64(rssBefore)/(1<<10), float64(rssPeak)/(1<<10), base, during)
		s.Close()
		return
	}
	if perr != nil {
		fatalf("purge: %v", perr)
	}
	if err := s.Close(); err != nil {
		fatalf("close: %v", err)
	}
	d.kill()

	fmt.Printf("\n%s: removed %d, load %s\n", name, len(ids), machine.LoadAvg())
	fmt.Printf("  (the store's scan at start took %.1f s, before the creates)\n", scan.Seconds())
	fmt.Printf("  purge: commits %d, kept %d, rewritten %d, dropped %d, trees %d, objects %d, pack %.1f MB; rewrite %.1f s, writer lock %s, total %.1f s\n",
		st.Commits, st.Kept, st.Rewritten, st.Dropped, st.Trees, st.Objects, float64(st.PackBytes)/1e6,
		st.Rewrite.Seconds(), st.Locked.Round(time.Millisecond), st.Total.Seconds())
	fmt.Printf("  memory: heap +%.0f MiB at most; RSS %.0f MiB before, peak %.0f MiB during\n",
		float64(peak-min(peak, m0.HeapInuse))/(1<<20), float64(rssBefore)/(1<<10), float64(rssPeak)/(1<<10))
	fmt.Printf("  creates before: %s\n", base)
	fmt.Printf("  creates during: %s (%.2fx the rate before)\n", during, during.rate()/base.rate())

	t0 = time.Now()
	fsck := "ok"
	if out, err := exec.Command("git", "--git-dir="+remote, "fsck", "--no-progress").CombinedOutput(); err != nil {
		fsck = fmt.Sprintf("FAILED: %v %s", err, out)
	}
	fsckTime := time.Since(t0)
	tip := tipFiles(remote)
	lost := 0
	for _, id := range append(base.ids, during.ids...) {
		if _, ok := tip[id]; !ok {
			lost++
		}
	}
	back := 0
	for _, id := range ids {
		if tip[id] == blobs[id] {
			back++
		}
	}
	inHistory := reachable(remote, blobs)
	fmt.Printf("  remote: pack %.1f MB before, %.1f MB after (old objects stay until the host's gc); fsck %s in %.0f s; %d files at the tip\n",
		float64(sizeBefore)/1e6, float64(packSize(remote))/1e6, fsck, fsckTime.Seconds(), len(tip))
	fmt.Printf("  acknowledged creates missing: %d of %d; removed pastes with their content at the tip: %d, in the history: %d of %d\n",
		lost, len(base.ids)+len(during.ids), back, inHistory, len(ids))
}

// spread picks k of ids evenly, the first among them.
func spread(ids []string, k int) []string {
	var out []string
	for i := 0; i < k; i++ {
		out = append(out, ids[i*len(ids)/k])
	}
	return out
}

// blobsOf returns the blob each of ids has at the tip of repository dir.
func blobsOf(dir string, ids []string) map[string]string {
	tip := tipFiles(dir)
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		out[id] = tip[id]
	}
	return out
}

// tipFiles returns the blob of every file at the tip of master in
// repository dir, by file name.
func tipFiles(dir string) map[string]string {
	cmd := exec.Command("git", "--git-dir="+dir, "ls-tree", "-r", "master")
	out, err := cmd.StdoutPipe()
	if err != nil {
		fatalf("%v", err)
	}
	if err := cmd.Start(); err != nil {
		fatalf("%v", err)
	}
	files := make(map[string]string)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		// MODE blob HASH\tPATH
		meta, path, ok := strings.Cut(sc.Text(), "\t")
		if f := strings.Fields(meta); ok && len(f) == 3 {
			files[filepath.Base(path)] = f[2]
		}
	}
	if err := cmd.Wait(); err != nil {
		fatalf("git ls-tree: %v", err)
	}
	return files
}

// reachable counts the blobs of blobs that the history of master in
// repository dir still holds.
func reachable(dir string, blobs map[string]string) int {
	want := make(map[string]bool, len(blobs))
	for _, b := range blobs {
		want[b] = true
	}
	cmd := exec.Command("git", "--git-dir="+dir, "rev-list", "--objects", "master")
	out, err := cmd.StdoutPipe()
	if err != nil {
		fatalf("%v", err)
	}
	if err := cmd.Start(); err != nil {
		fatalf("%v", err)
	}
	n := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		h, _, _ := strings.Cut(sc.Text(), " ")
		if want[h] {
			n++
			delete(want, h)
		}
	}
	if err := cmd.Wait(); err != nil {
		fatalf("git rev-list: %v", err)
	}
	return n
}

// packSize is size-pack of git count-objects in repository dir, in bytes.
func packSize(dir string) int64 {
	out, err := exec.Command("git", "--git-dir="+dir, "count-objects", "-v").Output()
	if err != nil {
		fatalf("git count-objects: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "size-pack: "); ok {
			kib, _ := strconv.ParseInt(v, 10, 64)
			return kib << 10
		}
	}
	return 0
}

// resetPeakRSS resets the process's peak RSS to its RSS, and returns that
// in KiB.
func resetPeakRSS() int64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		fatalf("reset peak RSS: %v", err)
	}
	return status("VmRSS")
}

// peakRSS is the process's peak RSS in KiB since resetPeakRSS.
func peakRSS() int64 { return status("VmHWM") }

// status reads field of /proc/self/status, in KiB.
func status(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fatalf("%v", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

func gitRun(dir string, args ...string) {
	if dir != "" {
		args = append([]string{"--git-dir=" + dir}, args...)
	}
	if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
		fatalf("git %v: %v %s", args, err, out)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "purgebench: "+format+"\n", args...)
	os.Exit(1)
}
