// Command netbench measures pasteur on its userspace TCP/IP stack (TAP
// mode) against the same binary on the kernel's sockets, in one run, on the
// deployment's topology built in network namespaces (package testbed):
//
//	client (wrk, in the bridge namespace, on br1 10.0.0.1 and fd00::1)
//	  ├── tap100 ── pasteur --tap (gVisor netstack, 10.0.0.3 and fd00::3)
//	  └── veth   ── namespace "sock": pasteur on kernel sockets (10.0.0.4)
//
// It prints the requests/s of small GET /ID (the HTML page) and GET
// /ID?raw=true (the text alone) and the MB/s of a 10 MB raw paste download
// for each, and the ratio netstack/kernel; the netstack server is
// measured over IPv4 and over IPv6 ("netstack6"), with the ratio of the two
// from the same run; for each figure the
// servers' TCP retransmits and link drops, their peak resident memory under
// load, and the top of a CPU profile of each; and the memory that 1,000 idle
// keep-alive connections cost each server. Runs alternate between the two
// servers so that a noisy machine affects both alike. Needs root.
//
// The servers run with --debug-addr on their namespace's loopback, where
// netbench reads their counters and profiles.
package main

import (
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

const (
	sockAddr  = "10.0.0.4"
	debugAddr = "127.0.0.1:6060" // each server's, in its own namespace
)

// options are netbench's command line.
type options struct {
	rounds   int
	dur      time.Duration
	conns    int
	idle     int
	offload  bool
	profiles string
	extra    string
	env      string
	bin      string
	figures  string
	v6       bool
}

func main() {
	var o options
	flag.IntVar(&o.rounds, "rounds", 3, "measurements of each figure per server")
	flag.DurationVar(&o.dur, "d", 5*time.Second, "duration of one wrk run")
	flag.IntVar(&o.conns, "c", 32, "wrk connections for small requests")
	flag.IntVar(&o.idle, "idle", 1000, "idle keep-alive connections to hold open (0: skip)")
	flag.BoolVar(&o.offload, "tap-offload", true, "run the netstack server with --tap-offload")
	flag.StringVar(&o.profiles, "profiles", "", "keep the CPU profiles in this `directory` (default: print their top only)")
	flag.StringVar(&o.extra, "args", "", "extra flags for both servers, space-separated")
	flag.StringVar(&o.env, "env", "", "environment of the netstack server, space-separated K=V")
	flag.BoolVar(&o.v6, "ipv6", true, "measure the netstack server over IPv6 too")
	flag.StringVar(&o.bin, "bin", "", "run this pasteur `binary` instead of building one (for A/B runs of two builds)")
	flag.StringVar(&o.figures, "figures", "", "measure only the figures whose names contain one of these comma-separated `words` (default: all)")
	// The hidden helper mode that holds idle connections.
	idleURL := flag.String("idle-client", "", "")
	idleN := flag.Int("idle-n", 1000, "")
	idleHold := flag.Duration("idle-hold", time.Minute, "")
	flag.Parse()
	var err error
	if *idleURL != "" {
		err = idleClient(*idleURL, min(*idleN, 5000), min(*idleHold, 5*time.Minute))
	} else {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netbench:", err)
		os.Exit(1)
	}
}

// served is a server process and where it is measured.
type served struct {
	t    target
	args []string
	pid  int
}

type target struct {
	name string
	base string // http://addr:port
	ns   string // where the server runs
	link string // its link in the bridge namespace
}

func run(o options) error {
	rounds, dur, conns := o.rounds, o.dur, o.conns
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("needs wrk (apt-get install wrk): %w", err)
	}
	tmp, err := os.MkdirTemp("", "netbench")
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

	bed, err := testbed.New("bench")
	if err != nil {
		return err
	}
	defer bed.Close()
	sockNS, err := bed.AddHost("sock", sockAddr+testbed.Prefix)
	if err != nil {
		return err
	}
	common := []string{"--max-size", "16777216", "--log-level", "warn", "--debug-addr", debugAddr}
	common = append(common, strings.Fields(o.extra)...)
	servers := []served{
		{t: target{"kernel", "http://" + sockAddr + ":4343", sockNS, "vbsock"}, args: append([]string{"--bind", sockAddr, "--data", filepath.Join(tmp, "sock")}, common...)},
		{t: target{"netstack", "http://" + testbed.TapAddr + ":4343", bed.Bridge, testbed.Tap}, args: append([]string{"--tap", testbed.Tap, "--ipv4", testbed.TapAddr + testbed.Prefix, "--ipv4-gateway", testbed.BridgeAddr, "--ipv6", testbed.TapAddr6 + testbed.Prefix6, "--data", filepath.Join(tmp, "tap"), fmt.Sprintf("--tap-offload=%v", o.offload)}, common...)},
	}
	profDir := o.profiles
	if profDir == "" {
		profDir = filepath.Join(tmp, "profiles")
	}
	if err := mkdirAll(profDir); err != nil {
		return err
	}
	big := filepath.Join(tmp, "big.txt")
	if err := os.WriteFile(big, bigText(10<<20), 0o644); err != nil {
		return err
	}
	small := map[string]string{}
	large := map[string]string{}
	for i := range servers {
		s := &servers[i]
		argv := append([]string{bin}, s.args...)
		if s.t.name == "netstack" && o.env != "" {
			argv = append(append([]string{"env"}, strings.Fields(o.env)...), argv...)
		}
		cmd := bed.Command(s.t.ns, argv...)
		cmd.Stderr = os.Stderr
		if err := bed.Start(cmd); err != nil {
			return err
		}
		s.pid = serverPID(cmd.Process.Pid)
	}
	// The netstack server again, over IPv6.
	targets := servers[:len(servers):len(servers)]
	if o.v6 {
		targets = append(targets, served{
			t: target{"netstack6", "http://[" + testbed.TapAddr6 + "]:4343", bed.Bridge, testbed.Tap}, pid: servers[1].pid})
	}
	for _, s := range targets {
		hostPort := strings.TrimPrefix(s.t.base, "http://")
		if err := bed.WaitTCP(bed.Bridge, hostPort, 30*time.Second); err != nil {
			return err
		}
		if small[s.t.name], err = pasteFile(bed, s.t.base, "", "package main\n\nfunc main() { println(\"hello\") }\n"); err != nil {
			return err
		}
	}

	type figure struct {
		name, unit string
		per        string // what CPU time is counted per: "request" or "MB"
		url        func(t target) string
		args       []string
		pick       func(r wrkResult) float64
	}
	figures := []figure{
		{"small GET /ID", "req/s", "request", func(t target) string { return small[t.name] }, []string{"-t2", fmt.Sprintf("-c%d", conns)}, func(r wrkResult) float64 { return r.reqPerSec }},
		{"small GET /ID?raw", "req/s", "request", func(t target) string { return small[t.name] + "?raw=true" }, []string{"-t2", fmt.Sprintf("-c%d", conns)}, func(r wrkResult) float64 { return r.reqPerSec }},
		{"10 MB raw download", "MB/s", "MB", func(t target) string { return large[t.name] + "?raw=true" }, []string{"-t1", "-c2"}, func(r wrkResult) float64 { return r.bytesPerSec / 1e6 }},
	}
	figures = pickFigures(figures, o.figures, func(f figure) string { return f.name })
	fmt.Printf("netbench: %s; %d rounds of %s per figure and server; %s; load %s; netstack --tap-offload=%v %s %s\n", time.Now().UTC().Format(time.RFC3339), rounds, dur, machine.Hardware(), machine.LoadAvg(), o.offload, o.extra, o.env)

	// Idle connections first, while the servers' memory is fresh.
	if o.idle > 0 {
		for _, s := range servers {
			r, err := measureIdle(bed, s.t, s.pid, small[s.t.name], o.idle)
			if err != nil {
				return fmt.Errorf("idle connections to %s: %w", s.t.name, err)
			}
			fmt.Printf("%d idle keep-alive connections, %-8s: RSS %+.1f KiB/conn, heap and stacks in use %+.1f KiB/conn, +%d goroutines\n",
				r.n, s.t.name, float64(r.rssDelta)/1024/float64(r.n), float64(r.heapDelta)/1024/float64(r.n), r.goroutines)
		}
	}

	for _, s := range targets {
		if large[s.t.name], err = pasteFile(bed, s.t.base, big, ""); err != nil {
			return err
		}
	}

	pids := map[string]int{}
	for _, s := range targets {
		pids[s.t.name] = s.pid
	}
	var tops []string
	for _, f := range figures {
		sums := map[string]float64{}
		total := map[string]counters{}
		srvCPU, cliCPU := map[string]time.Duration{}, map[string]time.Duration{}
		units := map[string]float64{}
		rss := sampleRSS(pids)
		for r := 0; r < rounds; r++ {
			for _, s := range targets {
				c0, err := readCounters(bed, s.t)
				if err != nil {
					return err
				}
				var waitProf func() error
				prof := profilePath(profDir, f.name, s.t.name)
				if r == 0 {
					waitProf = startProfile(bed, s.t, dur-time.Second, prof)
				}
				cpu0, err := cpuTime(s.pid)
				if err != nil {
					return err
				}
				wrk0 := childrenCPU()
				res, err := runWrk(bed, append(f.args, "-d", dur.String(), "--timeout", "10s", f.url(s.t)))
				if err != nil {
					return err
				}
				wrkCPU := childrenCPU() - wrk0
				cpu1, err := cpuTime(s.pid)
				if err != nil {
					return err
				}
				if waitProf != nil {
					if err := waitProf(); err != nil {
						return fmt.Errorf("profile: %w", err)
					}
					tops = append(tops, fmt.Sprintf("CPU profile, %s, %s:\n%s", f.name, s.t.name, profileTop(bin, prof, 12)))
				}
				c1, err := readCounters(bed, s.t)
				if err != nil {
					return err
				}
				d := c1.sub(c0)
				total[s.t.name] = total[s.t.name].add(d)
				v := f.pick(res)
				sums[s.t.name] += v
				work := v * dur.Seconds() // requests or MB
				srvCPU[s.t.name] += cpu1 - cpu0
				cliCPU[s.t.name] += wrkCPU
				units[s.t.name] += work
				fmt.Printf("  %-20s %-9s round %d: %10.1f %s (%d errors; %v; CPU per %s: server %.1f us, wrk %.1f us)\n", f.name, s.t.name, r+1, v, f.unit, res.errors, d,
					f.per, float64((cpu1-cpu0).Microseconds())/work, float64(wrkCPU.Microseconds())/work)
			}
		}
		peaks := rss.peaks()
		k, n := sums["kernel"]/float64(rounds), sums["netstack"]/float64(rounds)
		fmt.Printf("%-20s kernel %10.1f %s  netstack %10.1f %s  ratio netstack/kernel %.2fx\n", f.name, k, f.unit, n, f.unit, n/k)
		if o.v6 {
			n6 := sums["netstack6"] / float64(rounds)
			fmt.Printf("%-20s netstack over IPv6 %10.1f %s  ratio IPv6/IPv4 %.2fx\n", "", n6, f.unit, n6/n)
		}
		perUnit := func(c map[string]time.Duration, name string) float64 {
			return float64(c[name].Microseconds()) / units[name]
		}
		fmt.Printf("%-20s CPU per %s: kernel server %.1f us + wrk %.1f us, netstack server %.1f us + wrk %.1f us; ratio of the sums kernel/netstack %.2fx\n", "", f.per,
			perUnit(srvCPU, "kernel"), perUnit(cliCPU, "kernel"), perUnit(srvCPU, "netstack"), perUnit(cliCPU, "netstack"),
			(perUnit(srvCPU, "kernel")+perUnit(cliCPU, "kernel"))/(perUnit(srvCPU, "netstack")+perUnit(cliCPU, "netstack")))
		fmt.Printf("%-20s kernel: %v; netstack: %v; netstack6: %v\n", "", total["kernel"], total["netstack"], total["netstack6"])
		fmt.Printf("%-20s peak RSS kernel %.1f MiB  netstack %.1f MiB  ratio %.2fx\n", "", float64(peaks["kernel"])/1024, float64(peaks["netstack"])/1024, float64(peaks["netstack"])/float64(peaks["kernel"]))
	}
	for _, t := range tops {
		fmt.Print(t)
	}
	fmt.Printf("load at the end: %s\n", machine.LoadAvg())
	if out, err := bed.Run(bed.Bridge, "ip", "-s", "link", "show", testbed.Tap); err == nil {
		fmt.Printf("tap counters (host side):\n%s", out)
	}
	return nil
}

// pickFigures keeps the figures whose name contains one of the
// comma-separated words of only; an empty only keeps them all.
func pickFigures[F any](all []F, only string, name func(F) string) []F {
	if only == "" {
		return all
	}
	var kept []F
	for _, f := range all {
		for _, w := range strings.Split(only, ",") {
			if w != "" && strings.Contains(name(f), w) {
				kept = append(kept, f)
				break
			}
		}
	}
	return kept
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
