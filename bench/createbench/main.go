// Command createbench measures how fast pasteur creates pastes over HTTP,
// against two baselines measured in the same run, alternating round by
// round, on socket mode in the network namespaces of internal/testbed:
//
//	client (load generator, in the bridge namespace, on br1 10.0.0.1)
//	  git daemon on 10.0.0.1 (the remotes)
//	  └── veth ── namespace "sock" (10.0.0.4):
//	        pasteur --remote git://10.0.0.1/http.git   :4343
//	        pasteur, no remote                         :4345
//	        pasteur --remote .../httpdisk.git --ack disk :4346
//	        the baseline server (baseline.go)          :4344
//	        the store worker (store.go), on its own remote
//
// It prints, per round and as means over the rounds:
//
//   - creates/s over HTTP with 64 clients and ~300-byte distinct pastes
//     (pasteur with a git daemon remote) against the rate of a
//     gitsync.Store driven directly by 64 goroutines on the same daemon
//     (the store's own rate), and the ratio; the same with --ack disk
//     (answered from the write-ahead log, pushed behind) against a Store
//     with gitsync.AckDisk;
//   - creates/s with 16 clients and 2 KB pastes, pasteur without a remote
//     (durable: group commit and fsync) against the baseline server (parse
//     the body, write one file, no fsync), and the ratio;
//   - the resident memory of each server after those loads;
//   - with each round, the CPU time a create cost each process: the
//     server (from /proc) and the load client, or the store worker (each
//     its own, over the load), and git daemon with the receive-packs it
//     ran (from /proc, children included, from the worker's Store open);
//     with the means, the CPU a create of all of them, per side. On a
//     machine whose cores are busy, the rates follow it.
//
// Needs root. Run it with `go run ./bench/createbench` (make bench runs it).
// Hidden modes of this same program are the load client, the baseline
// server and the store worker, each run inside a namespace.
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
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/bench/internal/machine"
	"github.com/pasteur-dev/pasteur/internal/testbed"
)

const sockAddr = "10.0.0.4"

func main() {
	rounds := flag.Int("rounds", 3, "rounds; each measures every server once")
	dur := flag.Duration("d", 5*time.Second, "duration of one load")
	profiles := flag.String("profiles", "", "write CPU profiles of round 1 into this `directory`")
	logs := flag.String("logs", "", "write the servers' logs into this `directory` (default: standard error)")
	level := flag.String("log-level", "warn", "the pasteur servers' --log-level (debug logs each group's commit and push)")
	bin := flag.String("bin", "", "run this pasteur `binary` instead of building one (for A/B runs of two builds)")
	figures := flag.String("figures", "", "measure only the pairs whose names contain one of these comma-separated `words`, such as \"no remote\" (default: all)")
	// Hidden modes.
	mode := flag.String("mode", "", "")
	url := flag.String("url", "", "")
	clients := flag.Int("c", 16, "")
	size := flag.Int("size", 300, "")
	n := flag.Int("n", 1000000, "")
	addr := flag.String("addr", "", "")
	dir := flag.String("dir", "", "")
	remote := flag.String("remote", "", "")
	ack := flag.String("ack", "push", "")
	profile := flag.String("profile", "", "")
	flag.Parse()
	var err error
	switch *mode {
	case "":
		err = run(options{*rounds, *dur, *profiles, *logs, *level, *bin, *figures})
	case "load":
		err = loadClient(*url, *clients, *size, *n, *dur)
	case "baseline":
		err = baselineServer(*addr, *dir)
	case "store":
		err = storeRate(*remote, *dir, *ack, *clients, *size, *n, *dur, *profile)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "createbench:", err)
		os.Exit(1)
	}
}

// measure is one kind of load, run once per round.
type measure struct {
	name   string
	ns     string
	argv   []string
	prof   func(dir string) (wait func() error) // CPU profile of the server, or nil
	server string                               // the server loaded, for its CPU per create ("" for the store worker)
	ack    string                               // the store worker with this acknowledgement (argv nil)
}

// options are the flags of a run.
type options struct {
	rounds              int
	dur                 time.Duration
	profDir, logDir     string
	level, bin, figures string
}

func run(o options) error {
	rounds, dur, profDir, logDir, level := o.rounds, o.dur, o.profDir, o.logDir, o.level
	if err := testbed.Check(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "createbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := o.bin
	if bin == "" {
		if bin, err = testbed.BuildPasteur(tmp); err != nil {
			return err
		}
	}
	bed, err := testbed.New("cb")
	if err != nil {
		return err
	}
	defer bed.Close()
	sock, err := bed.AddHost("sock", sockAddr+testbed.Prefix)
	if err != nil {
		return err
	}
	execPath, _ := exec.Command("git", "--exec-path").Output()
	daemon := bed.Command(bed.Bridge, filepath.Join(strings.TrimSpace(string(execPath)), "git-daemon"),
		"--listen="+testbed.BridgeAddr, "--base-path="+tmp, "--export-all", "--enable=receive-pack", "--reuseaddr")
	if err := bed.Start(daemon); err != nil {
		return err
	}
	if err := bed.WaitTCP(bed.Bridge, testbed.BridgeAddr+":9418", 10*time.Second); err != nil {
		return err
	}
	gitPID := daemonPID(daemon.Process.Pid)
	for _, name := range []string{"http.git", "store.git", "httpdisk.git", "storedisk.git"} {
		if err := initRemote(filepath.Join(tmp, name)); err != nil {
			return err
		}
	}
	remote := func(name string) string { return "git://" + testbed.BridgeAddr + "/" + name }

	// The servers, all in the socket namespace.
	common := []string{bin, "--bind", sockAddr, "--log-level", level}
	servers := map[string]*exec.Cmd{
		"pasteur+remote": bed.Command(sock, append(common, "--port", "4343", "--remote", remote("http.git"), "--data", filepath.Join(tmp, "http-data"), "--debug-addr", "127.0.0.1:6060")...),
		"pasteur":        bed.Command(sock, append(common, "--port", "4345", "--data", filepath.Join(tmp, "local-data"), "--debug-addr", "127.0.0.1:6061")...),
		"baseline":       bed.Command(sock, self, "-mode", "baseline", "-addr", sockAddr+":4344", "-dir", filepath.Join(tmp, "baseline-data")),
		"pasteur+disk":   bed.Command(sock, append(common, "--port", "4346", "--remote", remote("httpdisk.git"), "--ack", "disk", "--data", filepath.Join(tmp, "httpdisk-data"), "--debug-addr", "127.0.0.1:6062")...),
	}
	for _, name := range []string{"pasteur+remote", "pasteur", "baseline", "pasteur+disk"} {
		cmd := servers[name]
		cmd.Stderr = os.Stderr
		if logDir != "" {
			if err := os.MkdirAll(logDir, 0o755); err != nil {
				return err
			}
			f, err := os.Create(filepath.Join(logDir, name+".log"))
			if err != nil {
				return err
			}
			defer f.Close()
			cmd.Stderr = f
		}
		if err := bed.Start(cmd); err != nil {
			return err
		}
	}
	for _, port := range []string{"4343", "4344", "4345", "4346"} {
		if err := bed.WaitTCP(bed.Bridge, sockAddr+":"+port, 30*time.Second); err != nil {
			return err
		}
	}
	if profDir != "" {
		if err := os.MkdirAll(profDir, 0o755); err != nil {
			return err
		}
	}
	load := func(url string, c, size int) []string {
		return []string{self, "-mode", "load", "-url", url, "-c", fmt.Sprint(c), "-size", fmt.Sprint(size), "-d", dur.String()}
	}
	httpProf := func(port string) func(string) func() error {
		return func(file string) func() error {
			return startProfile(bed, sock, "127.0.0.1:"+port, dur-time.Second, file)
		}
	}
	pairs := [][2]measure{
		{
			{"HTTP, 64 clients, 300 B, git remote", bed.Bridge, load("http://"+sockAddr+":4343/", 64, 300), httpProf("6060"), "pasteur+remote", ""},
			{"store alone, 64 clients, 300 B", sock, nil, nil, "", "push"},
		},
		{
			{"HTTP, 64 clients, 300 B, --ack disk", bed.Bridge, load("http://"+sockAddr+":4346/", 64, 300), httpProf("6062"), "pasteur+disk", ""},
			{"store alone, 64 clients, 300 B, disk", sock, nil, nil, "", "disk"},
		},
		{
			{"HTTP, 16 clients, 2 KB, no remote", bed.Bridge, load("http://"+sockAddr+":4345/", 16, 2048), httpProf("6061"), "pasteur", ""},
			{"baseline, 16 clients, 2 KB", bed.Bridge, load("http://"+sockAddr+":4344/", 16, 2048), nil, "baseline", ""},
		},
	}
	pairs = pickPairs(pairs, o.figures)
	fmt.Printf("createbench: %s; %d rounds of %s; %s; load %s\n", time.Now().UTC().Format(time.RFC3339), rounds, dur, machine.Hardware(), machine.LoadAvg())
	sums := map[string]float64{}
	// CPU of all the processes of a measure (server and load client, or
	// store worker; git daemon) and its creates, over the rounds.
	cpuSums, createSums := map[string]int64{}, map[string]int64{}
	for r := range rounds {
		for pi, pair := range pairs {
			// Alternate which of the pair goes first.
			order := []int{0, 1}
			if r%2 == 1 {
				order = []int{1, 0}
			}
			for _, i := range order {
				m := pair[i]
				argv := m.argv
				if argv == nil {
					// The store worker, on one data directory over
					// the rounds, as the servers keep theirs: a new
					// one each round began as a partial clone of a
					// remote grown by the rounds before, which it
					// completed during its load (its CPU a create
					// went 150-190, 240-350, 330-880 us in rounds 1-3).
					repo := map[string]string{"push": "store.git", "disk": "storedisk.git"}[m.ack]
					argv = []string{self, "-mode", "store", "-remote", remote(repo), "-ack", m.ack, "-dir", filepath.Join(tmp, "store-"+m.ack+"-data"), "-c", "64", "-size", "300", "-d", dur.String()}
					if r == 0 && profDir != "" {
						argv = append(argv, "-profile", filepath.Join(profDir, "store.pprof"))
					}
				}
				var wait func() error
				if r == 0 && profDir != "" && m.prof != nil {
					wait = m.prof(filepath.Join(profDir, fmt.Sprintf("create-%d.pprof", pi)))
				}
				var cpu0 time.Duration
				if m.server != "" {
					cpu0 = cpuTime(serverPID(servers[m.server].Process.Pid))
				}
				var git0 time.Duration
				res, err := runJSON(bed, m.ns, argv, func() { git0 = treeCPU(gitPID) })
				if err != nil {
					return fmt.Errorf("%s: %w", m.name, err)
				}
				if wait != nil {
					if err := wait(); err != nil {
						return fmt.Errorf("profile: %w", err)
					}
				}
				rate := float64(res.Creates) / res.Seconds
				sums[m.name] += rate
				first := ""
				if res.First != "" {
					first = "; first error: " + res.First
				}
				if res.Creates > 0 {
					// CPU a create: the server's, or the store
					// worker's; the load client's; git daemon's and
					// its receive-packs'.
					per := func(us int64) float64 { return float64(us) / float64(res.Creates) }
					cpu, own := "", res.CPU
					if m.server != "" {
						used := cpuTime(serverPID(servers[m.server].Process.Pid)) - cpu0
						own = used.Microseconds() + res.CPU
						cpu = fmt.Sprintf("; server CPU %.1f us a create, client %.1f", per(used.Microseconds()), per(res.CPU))
					} else {
						cpu = fmt.Sprintf("; store CPU %.1f us a create", per(res.CPU))
					}
					if git := treeCPU(gitPID) - git0; git > 0 {
						own += git.Microseconds()
						cpu += fmt.Sprintf(", git %.1f", per(git.Microseconds()))
					}
					cpuSums[m.name] += own
					createSums[m.name] += int64(res.Creates)
					first = cpu + first
				}
				fmt.Printf("  round %d %-38s %8.1f creates/s (%d in %.1fs, %d errors%s)\n", r+1, m.name, rate, res.Creates, res.Seconds, res.Errors, first)
			}
		}
	}
	for _, pair := range pairs {
		a, b := sums[pair[0].name]/float64(rounds), sums[pair[1].name]/float64(rounds)
		fmt.Printf("%-38s %8.1f creates/s  %-32s %8.1f creates/s  ratio %.2fx\n", pair[0].name, a, pair[1].name, b, a/b)
		ca, cb := cpuSums[pair[0].name], cpuSums[pair[1].name]
		na, nb := createSums[pair[0].name], createSums[pair[1].name]
		if na > 0 && nb > 0 && ca > 0 && cb > 0 {
			fmt.Printf("%-38s %8.1f us CPU a create, all processes; %-18s %8.1f us; ratio %.2fx\n", "", float64(ca)/float64(na), "", float64(cb)/float64(nb),
				(float64(cb)/float64(nb))/(float64(ca)/float64(na)))
		}
	}
	rss := map[string]int{}
	for _, name := range []string{"pasteur+remote", "pasteur+disk", "pasteur", "baseline"} {
		pid := serverPID(servers[name].Process.Pid)
		rss[name], _ = statusKB(pid, "VmRSS:")
		hwm, _ := statusKB(pid, "VmHWM:")
		anon, _ := statusKB(pid, "RssAnon:")
		file, _ := statusKB(pid, "RssFile:")
		fmt.Printf("RSS after the loads, %-15s %6.1f MiB (anonymous %.1f, file %.1f; peak %.1f MiB)\n", name,
			float64(rss[name])/1024, float64(anon)/1024, float64(file)/1024, float64(hwm)/1024)
	}
	fmt.Printf("RSS ratio pasteur (no remote) / baseline: %.2fx; load %s\n", float64(rss["pasteur"])/float64(rss["baseline"]), machine.LoadAvg())
	return nil
}

// runJSON runs argv in ns and decodes the loadResult it prints last. It
// calls ready as it starts argv, and again at a line "ready" before the
// result (the store worker's, once its Store is open).
func runJSON(bed *testbed.Bed, ns string, argv []string, ready func()) (loadResult, error) {
	cmd := bed.Command(ns, argv...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return loadResult{}, err
	}
	ready()
	if err := bed.Start(cmd); err != nil {
		return loadResult{}, err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if sc.Text() == readyLine {
			ready()
			continue
		}
		out.Write(sc.Bytes())
	}
	if err := cmd.Wait(); err != nil {
		return loadResult{}, err
	}
	var r loadResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return r, fmt.Errorf("output %q: %w", out.String(), err)
	}
	return r, nil
}

// readyLine is what the store worker prints once its Store is open.
const readyLine = "ready"

// initRemote makes a bare repository with one empty commit on master, as a
// new pasteur remote.
func initRemote(repo string) error {
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=master", repo).CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %v %s", err, out)
	}
	msg := "Initial commit\n"
	cmd := exec.Command("git", "--git-dir="+repo, "fast-import", "--quiet")
	cmd.Stdin = strings.NewReader(fmt.Sprintf("commit refs/heads/master\ncommitter pasteur <pasteur@localhost> 1700000000 +0000\ndata %d\n%s\n", len(msg), msg))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import: %v %s", err, out)
	}
	return nil
}

// pickPairs keeps the pairs whose first name contains one of the
// comma-separated words of only; an empty only keeps them all.
func pickPairs(all [][2]measure, only string) [][2]measure {
	if only == "" {
		return all
	}
	var kept [][2]measure
	for _, p := range all {
		for _, w := range strings.Split(only, ",") {
			if w != "" && strings.Contains(p[0].name, w) {
				kept = append(kept, p)
				break
			}
		}
	}
	return kept
}
