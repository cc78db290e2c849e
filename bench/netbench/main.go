// Command netbench measures pasteur on its userspace TCP/IP stack (TAP
// mode) against the same binary on the kernel's sockets, in one run, on the
// deployment's topology built in network namespaces (package testbed):
//
//	client (wrk, in the bridge namespace, on br1 10.0.0.1)
//	  ├── tap100 ── pasteur --tap (gVisor netstack, 10.0.0.3)
//	  └── veth   ── namespace "sock": pasteur on kernel sockets (10.0.0.4)
//
// It prints small GET /ID requests/s and the MB/s of a 10 MB raw paste
// download for each, and the ratio netstack/kernel. Runs alternate between
// the two servers so that a noisy machine affects both alike. Needs root.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

const sockAddr = "10.0.0.4"

func main() {
	rounds := flag.Int("rounds", 3, "measurements of each figure per server")
	dur := flag.Duration("d", 5*time.Second, "duration of one wrk run")
	conns := flag.Int("c", 32, "wrk connections for small requests")
	flag.Parse()
	if err := run(*rounds, *dur, *conns); err != nil {
		fmt.Fprintln(os.Stderr, "netbench:", err)
		os.Exit(1)
	}
}

type target struct {
	name string
	base string // http://addr:port
	ns   string // where the server runs
}

func run(rounds int, dur time.Duration, conns int) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("needs wrk (apt-get install wrk): %w", err)
	}
	tmp, err := os.MkdirTemp("", "netbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "pasteur")
	build := exec.Command("go", "build", "-o", bin, "./cmd/pasteur")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}

	bed, err := testbed.New("bench")
	if err != nil {
		return err
	}
	defer bed.Close()
	sockNS, err := bed.AddHost("sock", sockAddr+testbed.Prefix)
	if err != nil {
		return err
	}
	common := []string{"--max-size", "16777216", "--log-level", "warn"}
	servers := []struct {
		t    target
		args []string
	}{
		{target{"kernel", "http://" + sockAddr + ":4343", sockNS}, append([]string{"--bind", sockAddr, "--data", filepath.Join(tmp, "sock")}, common...)},
		{target{"netstack", "http://" + testbed.TapAddr + ":4343", bed.Bridge}, append([]string{"--tap", testbed.Tap, "--ipv4", testbed.TapAddr + testbed.Prefix, "--ipv4-gateway", testbed.BridgeAddr, "--data", filepath.Join(tmp, "tap")}, common...)},
	}
	big := filepath.Join(tmp, "big.txt")
	if err := os.WriteFile(big, bigText(10<<20), 0o644); err != nil {
		return err
	}
	small := map[string]string{}
	large := map[string]string{}
	for _, s := range servers {
		cmd := bed.Command(s.t.ns, append([]string{bin}, s.args...)...)
		cmd.Stderr = os.Stderr
		if err := bed.Start(cmd); err != nil {
			return err
		}
		hostPort := strings.TrimPrefix(s.t.base, "http://")
		if err := bed.WaitTCP(bed.Bridge, hostPort, 30*time.Second); err != nil {
			return err
		}
		if small[s.t.name], err = pasteFile(bed, s.t.base, "", "package main\n\nfunc main() { println(\"hello\") }\n"); err != nil {
			return err
		}
		if large[s.t.name], err = pasteFile(bed, s.t.base, big, ""); err != nil {
			return err
		}
	}

	type figure struct {
		name, unit string
		url        func(t target) string
		args       []string
		pick       func(r wrkResult) float64
	}
	figures := []figure{
		{"small GET /ID", "req/s", func(t target) string { return small[t.name] }, []string{"-t2", fmt.Sprintf("-c%d", conns)}, func(r wrkResult) float64 { return r.reqPerSec }},
		{"10 MB raw download", "MB/s", func(t target) string { return large[t.name] + "?raw=true" }, []string{"-t1", "-c2"}, func(r wrkResult) float64 { return r.bytesPerSec / 1e6 }},
	}
	fmt.Printf("netbench: %d rounds of %s per figure and server; %s\n", rounds, dur, hardware())
	for _, f := range figures {
		sums := map[string]float64{}
		for r := 0; r < rounds; r++ {
			for _, s := range servers {
				res, err := runWrk(bed, append(f.args, "-d", dur.String(), "--timeout", "10s", f.url(s.t)))
				if err != nil {
					return err
				}
				v := f.pick(res)
				sums[s.t.name] += v
				fmt.Printf("  %-20s %-8s round %d: %10.1f %s (%d errors)\n", f.name, s.t.name, r+1, v, f.unit, res.errors)
			}
		}
		k, n := sums["kernel"]/float64(rounds), sums["netstack"]/float64(rounds)
		fmt.Printf("%-20s kernel %10.1f %s  netstack %10.1f %s  ratio netstack/kernel %.2fx\n", f.name, k, f.unit, n, f.unit, n/k)
	}
	if out, err := bed.Run(bed.Bridge, "ip", "-s", "link", "show", testbed.Tap); err == nil {
		fmt.Printf("tap counters (host side):\n%s", out)
	}
	return nil
}

// pasteFile pastes a file (or text) from the bridge namespace and returns
// the paste's URL.
func pasteFile(bed *testbed.Bed, base, file, text string) (string, error) {
	field := "paste=" + text
	if file != "" {
		field = "paste=@" + file
	}
	out, err := bed.Run(bed.Bridge, "curl", "-sS", "--fail-with-body", "-m", "60", "-F", field, base+"/")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// bigText is n bytes of printable lines.
func bigText(n int) []byte {
	line := []byte("the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ\n")
	b := make([]byte, 0, n)
	for len(b) < n {
		b = append(b, line...)
	}
	return b[:n]
}

// hardware names the machine for BENCHMARKS.md.
func hardware() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, model, _ = strings.Cut(l, ": ")
				break
			}
		}
	}
	out, _ := exec.Command("nproc").Output()
	return fmt.Sprintf("%s cores of %s", strings.TrimSpace(string(out)), model)
}
