// Command gitbench measures pasteur's Git sync (package gitsync) in TAP
// mode against a local git daemon, in the network namespaces of
// internal/testbed, and prints figures:
//
//   - pastes per second with 64 concurrent clients, pastes grouped into
//     one commit and push versus one commit and push per paste;
//   - the cost of a paste (commit + fsync, and + push) on a repository of
//     1,000 pastes versus 100,000 (made with git fast-import), in rounds
//     that alternate the sizes; git's own push of one paste to the same
//     remotes, for the remote's share; and the grouped rate at both sizes;
//   - the start-up time and memory of the pasteur binary against a remote
//     of 100,000 pastes.
//
// It needs root. Run it with `go run ./bench/gitbench` (make bench-git).
// The stores run in a worker process inside the bridge namespace (this
// program, re-executed with "worker"); nothing is sent from the root
// namespace.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/bench/internal/machine"
	"github.com/pasteur-dev/pasteur/internal/testbed"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker(os.Args[2:]); err != nil {
			fatalf("worker: %v", err)
		}
		return
	}
	clients := flag.Int("clients", 64, "concurrent clients")
	dur := flag.Duration("dur", 20*time.Second, "length of each throughput run at most")
	big := flag.Int("big", 100000, "pastes in the large repository")
	layout := flag.String("layout", "adaptive", "layout of the generated repositories: adaptive (gitsync's: leaves split past 64 pastes), nested (a/b/ID) or two (ab/ID)")
	seed := flag.Bool("seed", false, "give each store of the cost part a local git clone of its remote, so that it starts without a first fetch (a remote of 1M pastes cannot be fetched in the 30 s a start allows)")
	skip := flag.String("skip", "", "comma-separated parts to skip: throughput, cost, startup; within cost, gitpush (git's own push) and grouped (64 clients at both sizes)")
	remoteConfig := flag.String("remote-config", "", "comma-separated `key=value` settings of git config applied to the remotes (e.g. receive.unpackLimit=1000)")
	costRounds := flag.Int("cost-rounds", 5, "rounds of the cost measurement, alternating sizes")
	pushN := flag.Int("push-n", 100, "pastes with the remote in each round of the cost measurement (a push at 1M pastes takes seconds: the remote's connectivity check)")
	trendN := flag.Int("trend", 0, "only compute the bytes of trees a paste rewrites, from 1,000 pastes up to this `count`, in both layouts, and exit (no root, no repository)")
	gen := flag.String("generate", "", "only make a bare repository of -big pastes at this `path`, and exit")
	startRuns := flag.Int("startup-runs", 3, "runs of each start-up measure")
	dataAfter := flag.String("data-after", "", "copy pasteur's `dir`ectory of data, as the first start left it once complete, to this directory (replaced at each run), for git fsck or a repack measured apart")
	waitComplete := flag.Bool("complete", true, "after the first start, wait until the repository is complete (the history in the background) and time it")
	noPartial := flag.Bool("no-partial", false, "start-up against a remote that allows no partial fetch (uploadpack.allowFilter, allowAnySHA1InWant off): the whole history at start")
	acks := flag.String("ack", "push", "comma-separated acknowledgement modes of the throughput runs (throughput part, and grouped in the cost part): push (answered once pushed) and/or disk (answered once in the write-ahead log, pushed behind)")
	binPath := flag.String("bin", "", "the pasteur `binary` of the start-up part (default: built from this tree), to compare two builds in alternate runs")
	keep := flag.String("keep", "", "keep the generated repositories in this `dir` (rN.git, N their pastes; on the filesystem of the temporary directory), made when missing and reused when present: the cost part gets a copy of them (git clone --local: hard links), the start-up part serves them as they are; 1M pastes take minutes to generate")
	gc := flag.Bool("gc", false, "repack each generated repository as git gc does one whose objects came loose (git repack -a -d -f, window 10, depth 50): the newest version of a tree whole and the older ones deltas against it, where git fast-import leaves each version a delta on the one before (a leaf at 1M pastes is then the end of a chain of ~25)")
	flag.Parse()
	opts := genOptions{layout: *layout, gc: *gc}
	if *trendN > 0 {
		trend(*trendN)
		return
	}
	if *gen != "" {
		generate(filepath.Dir(*gen), filepath.Base(*gen), *big, opts)
		return
	}
	if err := testbed.Check(); err != nil {
		fatalf("%v", err)
	}
	self, err := os.Executable()
	if err != nil {
		fatalf("%v", err)
	}
	tmp, err := os.MkdirTemp("", "gitbench")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(tmp)
	bed, err := testbed.New("gb")
	if err != nil {
		fatalf("%v", err)
	}
	defer bed.Close()
	execPath, _ := exec.Command("git", "--exec-path").Output()
	daemon := bed.Command(bed.Bridge, filepath.Join(strings.TrimSpace(string(execPath)), "git-daemon"),
		"--listen="+testbed.BridgeAddr, "--base-path="+tmp, "--export-all", "--enable=receive-pack", "--reuseaddr")
	if err := bed.Start(daemon); err != nil {
		fatalf("%v", err)
	}
	if err := bed.WaitTCP(bed.Bridge, testbed.BridgeAddr+":9418", 10*time.Second); err != nil {
		fatalf("%v", err)
	}
	remote := func(name string) string { return "git://" + testbed.BridgeAddr + "/" + name }
	run := func(args ...string) result {
		cmd := bed.Command(bed.Bridge, append([]string{self, "worker"}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := bed.Start(cmd); err != nil {
			fatalf("%v", err)
		}
		if err := cmd.Wait(); err != nil {
			fatalf("worker %v: %v", args, err)
		}
		var r result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			fatalf("worker output %q: %v", out.String(), err)
		}
		return r
	}
	skipped := func(part string) bool { return strings.Contains(","+*skip+",", ","+part+",") }
	fmt.Printf("gitbench: %s, layout %s, %d clients, remote config %q\n", time.Now().UTC().Format(time.RFC3339), *layout, *clients, *remoteConfig)

	if !skipped("throughput") {
		for _, ack := range strings.Split(*acks, ",") {
			var rs [2]result
			for i, g := range []int{0, 1} {
				name := fmt.Sprintf("tp%d-%s.git", i, ack)
				generate(tmp, name, 0, opts)
				configure(filepath.Join(tmp, name), *remoteConfig)
				n := 40000
				if g == 1 {
					n = 3000
				}
				rs[i] = run("-mode", "throughput", "-remote", remote(name), "-dir", filepath.Join(tmp, fmt.Sprintf("tp%d-%s-data", i, ack)),
					"-group", fmt.Sprint(g), "-clients", fmt.Sprint(*clients), "-n", fmt.Sprint(n), "-dur", dur.String(), "-ack", ack)
				commits := strings.Count(gitOut(filepath.Join(tmp, name), "rev-list", "master"), "\n")
				what := "grouped (up to 256 per commit)"
				if g == 1 {
					what = "one commit and push per paste"
				}
				fmt.Printf("throughput, ack %s, %-32s %7.1f pastes/s  (%d pastes in %.1fs, %d commits on the remote, %d errors; %d pushes, drained %.1fs after)\n",
					ack, what, rs[i].PerSecond, rs[i].Pastes, rs[i].Seconds, commits, rs[i].Errors, rs[i].Pushes, rs[i].DrainSec)
			}
			fmt.Printf("throughput ratio, ack %s, grouped/one-by-one: %.1fx\n", ack, rs[0].PerSecond/rs[1].PerSecond)
		}
	}

	if !skipped("cost") {
		// Rounds alternate between the sizes so that the machine's drift
		// falls on both; figures are the medians of the rounds.
		sizes := []int{1000, *big}
		var rounds [2][]result
		for _, size := range sizes {
			name := fmt.Sprintf("r%d.git", size)
			t0 := time.Now()
			if *keep != "" {
				cached(*keep, tmp, name, size, opts)
			} else {
				generate(tmp, name, size, opts)
			}
			configure(filepath.Join(tmp, name), *remoteConfig)
			fmt.Printf("cost: generated %d pastes in %.1fs\n", size, time.Since(t0).Seconds())
			if *seed {
				seedClone(filepath.Join(tmp, name), filepath.Join(tmp, name+"-data"))
			}
		}
		for range *costRounds { // 0: only the grouped runs
			for i, size := range sizes {
				name := fmt.Sprintf("r%d.git", size)
				rounds[i] = append(rounds[i], run("-mode", "cost", "-remote", remote(name), "-dir", filepath.Join(tmp, name+"-data"), "-n", "100", "-push-n", fmt.Sprint(*pushN), "-group", "1"))
			}
		}
		var med [2]result
		for i, size := range sizes {
			if *costRounds == 0 {
				break
			}
			med[i] = median(rounds[i])
			fmt.Printf("cost at %6d pastes: local (commit+fsync) %.2f ms, %.2f ms CPU, %.0f bytes written at commit, %.0f kept (merges included) per paste; with push %.2f ms/paste, %.0f bytes pushed per paste; first open %.2fs (medians of %d rounds)\n",
				size, med[i].LocalMS, med[i].LocalCPU, med[i].WrittenB, med[i].LocalB, med[i].RemoteMS, med[i].PushedB, rounds[i][0].OpenSec, len(rounds[i]))
		}
		if *costRounds > 0 {
			fmt.Printf("cost ratio %d/1k pastes: local time %.2fx, CPU %.2fx, bytes written %.2fx, kept %.2fx; with push %.2fx, bytes pushed %.2fx\n", *big,
				med[1].LocalMS/med[0].LocalMS, med[1].LocalCPU/med[0].LocalCPU, med[1].WrittenB/med[0].WrittenB, med[1].LocalB/med[0].LocalB, med[1].RemoteMS/med[0].RemoteMS, med[1].PushedB/med[0].PushedB)
		}
		// The same push by git itself, for what the remote's side costs.
		var gitMS [2]float64
		for i, size := range sizes {
			if skipped("gitpush") {
				break
			}
			gitMS[i] = gitPushes(bed, filepath.Join(tmp, fmt.Sprintf("r%d.git", size)), remote(fmt.Sprintf("r%d.git", size)), 30)
			fmt.Printf("git push of one paste at %6d pastes: %.2f ms (mean of 30, git over git://)\n", size, gitMS[i])
		}
		if !skipped("gitpush") {
			fmt.Printf("git push ratio %d/1k pastes: %.2fx\n", *big, gitMS[1]/gitMS[0])
		}
		// Grouped, the remote's cost per push is shared by the group;
		// with -ack disk, it is paid behind the answers.
		for _, ack := range strings.Split(*acks, ",") {
			if skipped("grouped") {
				break
			}
			var tp [2]result
			for i, size := range sizes {
				name := fmt.Sprintf("r%d.git", size)
				data := filepath.Join(tmp, name+"-tp-"+ack)
				if *seed {
					seedClone(filepath.Join(tmp, name), data)
				}
				tp[i] = run("-mode", "throughput", "-remote", remote(name), "-dir", data,
					"-group", "0", "-clients", fmt.Sprint(*clients), "-n", "40000", "-dur", (*dur / 2).String(), "-ack", ack)
				fmt.Printf("throughput at %7d pastes, %d clients, grouped, ack %s: %7.1f pastes/s (%.2f ms per paste; %d pastes, %.3f ms of CPU each to the last push; %d pushes, drained %.1fs after; started and scanned in %.1fs; load %s)\n",
					size, *clients, ack, tp[i].PerSecond, 1000/tp[i].PerSecond, tp[i].Pastes, tp[i].CPUms, tp[i].Pushes, tp[i].DrainSec, tp[i].OpenSec, machine.LoadAvg())
			}
			fmt.Printf("grouped cost ratio %d/1k pastes, ack %s: %.2fx\n", *big, ack, tp[0].PerSecond/tp[1].PerSecond)
		}
	}

	if !skipped("startup") {
		name := fmt.Sprintf("r%d.git", *big)
		src := filepath.Join(tmp, name)
		if *keep != "" {
			src = filepath.Join(*keep, name)
		}
		if _, err := os.Stat(src); err != nil {
			t0 := time.Now()
			generate(filepath.Dir(src), name, *big, opts)
			fmt.Printf("generated %d pastes in %.0fs\n", *big, time.Since(t0).Seconds())
		}
		if src != filepath.Join(tmp, name) {
			if err := os.Symlink(src, filepath.Join(tmp, name)); err != nil {
				fatalf("%v", err)
			}
		}
		allow := fmt.Sprint(!*noPartial)
		configure(src, "uploadpack.allowFilter="+allow+",uploadpack.allowAnySHA1InWant="+allow)
		id := firstPaste(src)
		bin := *binPath
		if bin == "" {
			var err error
			if bin, err = testbed.BuildPasteur(tmp); err != nil {
				fatalf("%v", err)
			}
		}
		fmt.Printf("start-up against %d pastes (remote allows partial fetches: %s), paste read %s; load %s\n", *big, allow, id, machine.LoadAvg())
		for run := range *startRuns {
			for _, o := range []string{"--depth 1 --filter=tree:0", "--depth 1 --filter=blob:none"} {
				secs, kib := gitClone(bed, remote(name), filepath.Join(tmp, "clone.git"), o)
				fmt.Printf("run %d: git clone --bare %-28s %6.2fs, peak RSS %d MiB\n", run+1, o+":", secs, kib>>10)
			}
			data := filepath.Join(tmp, "startup-data")
			os.RemoveAll(data)
			for _, c := range []struct {
				what, data string
				complete   bool
			}{
				{"empty --data", data, *waitComplete},
				{"restart, --data as left", data, false},
				{`--data "" (memory only)`, "", false},
			} {
				st := startup(bed, bin, remote(name), c.data, id, c.complete)
				if *dataAfter != "" && c.complete && c.data != "" {
					os.RemoveAll(*dataAfter)
					if out, err := exec.Command("cp", "-a", c.data, *dataAfter).CombinedOutput(); err != nil {
						fatalf("copy the data: %v %s", err, out)
					}
				}
				fmt.Printf("run %d: pasteur, %-24s %6.2fs to serve, RSS %d MiB (peak %d MiB); read %.0f ms, paste %.0f ms; complete after %.1fs (peak RSS %d MiB, %.1f MB of packs then; 0s: not waited for)\n",
					run+1, c.what+":", st.serve, st.rss>>10, st.hwm>>10, st.read*1000, st.paste*1000, st.complete, st.hwmComplete>>10, float64(st.packBytes)/1e6)
				if !st.repackFrom.IsZero() {
					fmt.Printf("run %d: the repack that ended it: %.1fs, RSS sampled up to %d MiB; during it, read %.0f ms, paste %.0f ms\n",
						run+1, st.repack, st.rssRepack>>10, st.readRepack*1000, st.pasteRepack*1000)
				}
			}
			fmt.Printf("run %d: load %s\n", run+1, machine.LoadAvg())
		}
	}
}

// startupFigures are what startup measures.
type startupFigures struct {
	serve       float64 // seconds until /healthz answers
	rss, hwm    int     // KiB then
	read, paste float64 // seconds of the first read of an old paste, and of a new paste, right after
	complete    float64 // seconds from the start until the repository is complete (0: not partial)
	hwmComplete int     // peak KiB then
	packBytes   int64   // bytes of the packs in data then
	// The repack that ends the completion: when /healthz first showed it,
	// its seconds (as sampled), the highest RSS sampled meanwhile (KiB),
	// and the seconds of a read and a paste made during it (negative:
	// failed).
	repackFrom              time.Time
	repack                  float64
	rssRepack               int
	readRepack, pasteRepack float64
}

// startup runs pasteur against remote, reads paste id and makes one once it
// serves, and with complete, waits for the background completion of its
// repository.
func startup(bed *testbed.Bed, bin, remote, data, id string, complete bool) startupFigures {
	metrics := testbed.TapAddr + ":9100"
	cmd := bed.Command(bed.Bridge, bin, "--tap", testbed.Tap, "--ipv4", testbed.TapAddr+testbed.Prefix,
		"--ipv4-gateway", testbed.BridgeAddr, "--remote", remote, "--data", data, "--log-level", "warn",
		"--metrics-addr", metrics)
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	if err := bed.Start(cmd); err != nil {
		fatalf("%v", err)
	}
	defer bed.Stop(cmd)
	base := "http://" + testbed.TapAddr + ":4343/"
	for {
		out, _ := bed.Run(bed.Bridge, "curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", base+"healthz")
		if out == "200" {
			break
		}
		if time.Since(t0) > 5*time.Minute {
			fatalf("pasteur did not start in 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var f startupFigures
	f.serve = time.Since(t0).Seconds()
	// ip netns exec execs pasteur: the pid is pasteur's.
	f.rss, f.hwm = memory(cmd.Process.Pid)
	t1 := time.Now()
	// A failure is a figure too (its time is negative), not the end of
	// the run: the processes of the bed would be left behind.
	if out, _ := bed.Run(bed.Bridge, "curl", "-s", "-m", "30", "-o", "/dev/null", "-w", "%{http_code}", base+id+"?raw=true"); out != "200" {
		fmt.Printf("read %s right after start: %s\n", id, out)
		f.read = -time.Since(t1).Seconds()
	} else {
		f.read = time.Since(t1).Seconds()
	}
	t1 = time.Now()
	if out, _ := bed.Run(bed.Bridge, "curl", "-s", "-m", "30", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "a paste right after start", base); out != "200" {
		fmt.Printf("paste right after start: %s\n", out)
		f.paste = -time.Since(t1).Seconds()
	} else {
		f.paste = time.Since(t1).Seconds()
	}
	for complete {
		out, _ := bed.Run(bed.Bridge, "curl", "-s", "-m", "5", "http://"+metrics+"/healthz")
		if !strings.Contains(out, `"completion"`) {
			break
		}
		if strings.Contains(out, `"repacking": true`) {
			if f.repackFrom.IsZero() {
				f.repackFrom = time.Now()
				// Served and made while the packs are written into one.
				t1 := time.Now()
				code, _ := bed.Run(bed.Bridge, "curl", "-s", "-m", "30", "-o", "/dev/null", "-w", "%{http_code}", base+id+"?raw=true")
				f.readRepack = time.Since(t1).Seconds()
				t1 = time.Now()
				code2, _ := bed.Run(bed.Bridge, "curl", "-s", "-m", "30", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "a paste during the repack", base)
				f.pasteRepack = time.Since(t1).Seconds()
				if code != "200" || code2 != "200" {
					fmt.Printf("during the repack: read %s, paste %s\n", code, code2)
					f.readRepack, f.pasteRepack = -f.readRepack, -f.pasteRepack
				}
			}
			rss, _ := memory(cmd.Process.Pid)
			f.rssRepack = max(f.rssRepack, rss)
			f.repack = time.Since(f.repackFrom).Seconds()
		}
		if time.Since(t0) > 15*time.Minute {
			fatalf("the repository was not complete in 15 minutes: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
		f.complete = time.Since(t0).Seconds()
	}
	_, f.hwmComplete = memory(cmd.Process.Pid)
	if complete && data != "" {
		packs, _ := filepath.Glob(filepath.Join(data, "objects", "pack", "*.pack"))
		for _, p := range packs {
			if fi, err := os.Stat(p); err == nil {
				f.packBytes += fi.Size()
			}
		}
	}
	return f
}

// memory returns the resident memory of process pid, and its peak, in KiB.
func memory(pid int) (rss, hwm int) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		fatalf("%v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(st))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "VmRSS:" {
			fmt.Sscan(f[1], &rss)
		}
		if len(f) >= 2 && f[0] == "VmHWM:" {
			fmt.Sscan(f[1], &hwm)
		}
	}
	return rss, hwm
}

// gitClone times git's own clone of remote with options (git's cost of
// the same start), from the bridge's namespace, and returns its seconds
// and peak RSS in KiB.
func gitClone(bed *testbed.Bed, remote, dir, options string) (float64, int) {
	os.RemoveAll(dir)
	defer os.RemoveAll(dir)
	t0 := time.Now()
	out, err := bed.Run(bed.Bridge, "sh", "-c", "/usr/bin/time -f %M git clone -q --bare "+options+" "+remote+" "+dir+" 2>&1")
	secs := time.Since(t0).Seconds()
	if err != nil {
		fatalf("git clone %s: %v %s", options, err, out)
	}
	var kib int
	fields := strings.Fields(out)
	if len(fields) > 0 {
		fmt.Sscan(fields[len(fields)-1], &kib)
	}
	return secs, kib
}

// firstPaste returns the id of a paste of the repository dir, the first
// its tip lists.
func firstPaste(dir string) string {
	cmd := exec.Command("git", "--git-dir="+dir, "ls-tree", "-r", "--name-only", "master")
	out, err := cmd.StdoutPipe()
	if err != nil {
		fatalf("%v", err)
	}
	if err := cmd.Start(); err != nil {
		fatalf("%v", err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	cmd.Process.Kill()
	cmd.Wait()
	return filepath.Base(strings.TrimSpace(line))
}

// cached makes dir/name a copy of the repository keep/name of n pastes
// (git clone --local, whose objects are hard links), generating that one
// first when it is missing.
func cached(keep, dir, name string, n int, g genOptions) {
	if _, err := os.Stat(filepath.Join(keep, name)); err != nil {
		generate(keep, name, n, g)
	}
	if out, err := exec.Command("git", "clone", "-q", "--bare", "--local", filepath.Join(keep, name), filepath.Join(dir, name)).CombinedOutput(); err != nil {
		fatalf("git clone: %v %s", err, out)
	}
}

// seedClone makes data a bare clone of the repository remote (on the same
// filesystem, without the network), its remote-tracking branch at the
// remote's tip, as a store that fetched it leaves it.
func seedClone(remote, data string) {
	if out, err := exec.Command("git", "clone", "-q", "--bare", remote, data).CombinedOutput(); err != nil {
		fatalf("git clone: %v %s", err, out)
	}
	gitOut(data, "update-ref", "refs/remotes/origin/master", "master")
}

func gitOut(dir string, args ...string) string {
	out, err := exec.Command("git", append([]string{"--git-dir=" + dir}, args...)...).Output()
	if err != nil {
		fatalf("git %v: %v", args, err)
	}
	return string(out)
}

// configure applies settings "k=v,k=v" to the repository dir.
func configure(dir, settings string) {
	for _, kv := range strings.Split(settings, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			gitOut(dir, "config", k, v)
		}
	}
}

// median returns, field by field, the medians of rs.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return result{
		LocalMS:  pick(func(r result) float64 { return r.LocalMS }),
		LocalCPU: pick(func(r result) float64 { return r.LocalCPU }),
		LocalB:   pick(func(r result) float64 { return r.LocalB }),
		WrittenB: pick(func(r result) float64 { return r.WrittenB }),
		RemoteMS: pick(func(r result) float64 { return r.RemoteMS }),
		PushedB:  pick(func(r result) float64 { return r.PushedB }),
	}
}

// gitPushes clones the bare repository dir (a local copy, no network),
// then n times commits one new paste in it and times git push to url from
// the bridge namespace; it returns the mean push in ms.
func gitPushes(bed *testbed.Bed, dir, url string, n int) float64 {
	clone := dir + "-gitclone"
	if out, err := exec.Command("git", "clone", "-q", dir, clone).CombinedOutput(); err != nil {
		fatalf("git clone: %v %s", err, out)
	}
	defer os.RemoveAll(clone)
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", clone, "-c", "user.name=bench", "-c", "user.email=bench@localhost"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			fatalf("git %v: %v %s", args, err, out)
		}
	}
	var total time.Duration
	for i := range n {
		id := fmt.Sprintf("gitpush%06d", i)
		path := filepath.Join(clone, id[:1], id[1:2], id)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fatalf("%v", err)
		}
		if err := os.WriteFile(path, []byte(`{"contents":"pushed by git `+id+`"}`), 0o644); err != nil {
			fatalf("%v", err)
		}
		git("add", path)
		git("commit", "-q", "-m", "Paste "+id)
		t0 := time.Now()
		if out, err := bed.Run(bed.Bridge, "git", "-C", clone, "push", "-q", url, "HEAD:master"); err != nil {
			fatalf("git push: %v %s", err, out)
		}
		total += time.Since(t0)
	}
	return float64(total.Microseconds()) / 1000 / float64(n)
}
