// Command gitbench measures pasteur's Git sync (package gitsync) in TAP
// mode against a local git daemon, in the network namespaces of
// internal/testbed, and prints figures:
//
//   - pastes per second with 64 concurrent clients, pastes grouped into
//     one commit and push versus one commit and push per paste;
//   - the cost of a paste (commit + fsync, and + push) on a repository of
//     1,000 pastes versus 100,000 (made with git fast-import);
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
	"strings"
	"time"

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
	layout := flag.String("layout", "nested", "layout of the generated repositories: nested (a/b/ID) or two (ab/ID); match gitsync's")
	skip := flag.String("skip", "", "comma-separated parts to skip: throughput, cost, startup")
	remoteConfig := flag.String("remote-config", "", "comma-separated `key=value` settings of git config applied to the remotes (e.g. receive.unpackLimit=1000)")
	gen := flag.String("generate", "", "only make a bare repository of -big pastes at this `path`, and exit")
	flag.Parse()
	if *gen != "" {
		generate(filepath.Dir(*gen), filepath.Base(*gen), *big, *layout)
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
		var rs [2]result
		for i, g := range []int{0, 1} {
			name := fmt.Sprintf("tp%d.git", i)
			generate(tmp, name, 0, *layout)
			configure(filepath.Join(tmp, name), *remoteConfig)
			n := 20000
			if g == 1 {
				n = 3000
			}
			rs[i] = run("-mode", "throughput", "-remote", remote(name), "-dir", filepath.Join(tmp, fmt.Sprintf("tp%d-data", i)),
				"-group", fmt.Sprint(g), "-clients", fmt.Sprint(*clients), "-n", fmt.Sprint(n), "-dur", dur.String())
			commits := strings.Count(gitOut(filepath.Join(tmp, name), "rev-list", "master"), "\n")
			what := "grouped (up to 256 per commit)"
			if g == 1 {
				what = "one commit and push per paste"
			}
			fmt.Printf("throughput %-32s %7.1f pastes/s  (%d pastes in %.1fs, %d commits on the remote, %d errors)\n",
				what, rs[i].PerSecond, rs[i].Pastes, rs[i].Seconds, commits, rs[i].Errors)
		}
		fmt.Printf("throughput ratio grouped/one-by-one: %.1fx\n", rs[0].PerSecond/rs[1].PerSecond)
	}

	if !skipped("cost") {
		var rs [2]result
		for i, size := range []int{1000, *big} {
			name := fmt.Sprintf("r%d.git", size)
			t0 := time.Now()
			generate(tmp, name, size, *layout)
			gen := time.Since(t0)
			configure(filepath.Join(tmp, name), *remoteConfig)
			rs[i] = run("-mode", "cost", "-remote", remote(name), "-dir", filepath.Join(tmp, name+"-data"), "-n", "200", "-group", "1")
			fmt.Printf("cost at %6d pastes: local (commit+fsync) %.2f ms, %.2f ms CPU, %.0f bytes per paste; with push %.2f ms/paste; first open (fetch) %.2fs; generated in %.1fs\n",
				size, rs[i].LocalMS, rs[i].LocalCPU, rs[i].LocalB, rs[i].RemoteMS, rs[i].OpenSec, gen.Seconds())
		}
		fmt.Printf("cost ratio %d/1k pastes: local time %.2fx, CPU %.2fx, bytes %.2fx; with push %.2fx\n", *big,
			rs[1].LocalMS/rs[0].LocalMS, rs[1].LocalCPU/rs[0].LocalCPU, rs[1].LocalB/rs[0].LocalB, rs[1].RemoteMS/rs[0].RemoteMS)
	}

	if !skipped("startup") {
		name := fmt.Sprintf("r%d.git", *big)
		if _, err := os.Stat(filepath.Join(tmp, name)); err != nil {
			generate(tmp, name, *big, *layout)
		}
		bin := filepath.Join(tmp, "pasteur")
		build := exec.Command("go", "build", "-o", bin, "./cmd/pasteur")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fatalf("build: %v\n%s", err, out)
		}
		data := filepath.Join(tmp, "startup-data")
		for _, c := range []struct{ what, data string }{
			{"empty --data (fetches everything)", data},
			{"restart, --data up to date", data},
			{`--data "" (memory only)`, ""},
		} {
			secs, rss, hwm := startup(bed, bin, remote(name), c.data)
			fmt.Printf("start-up against %d pastes, %-34s %.2fs to serve, RSS %d MiB (peak %d MiB)\n", *big, c.what+":", secs, rss>>10, hwm>>10)
		}
	}
}

// startup runs pasteur against remote and returns the seconds until it
// answers /healthz and its resident memory then, in KiB.
func startup(bed *testbed.Bed, bin, remote, data string) (float64, int, int) {
	cmd := bed.Command(bed.Bridge, bin, "--tap", testbed.Tap, "--ipv4", testbed.TapAddr+testbed.Prefix,
		"--ipv4-gateway", testbed.BridgeAddr, "--remote", remote, "--data", data, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	if err := bed.Start(cmd); err != nil {
		fatalf("%v", err)
	}
	defer bed.Stop(cmd)
	for {
		out, _ := bed.Run(bed.Bridge, "curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", "http://"+testbed.TapAddr+":4343/healthz")
		if out == "200" {
			break
		}
		if time.Since(t0) > 5*time.Minute {
			fatalf("pasteur did not start in 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	secs := time.Since(t0).Seconds()
	// ip netns exec execs pasteur: the pid is pasteur's.
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		fatalf("%v", err)
	}
	var rss, hwm int
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
	return secs, rss, hwm
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
