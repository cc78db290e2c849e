package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
	"github.com/pasteur-dev/pasteur/paste/shard"
)

// The several-instances deployment of the README: pasteurs on the host
// stacks of namespaces of their own, HAProxy in front, a client behind it.
const (
	lbAddr  = "10.0.0.20"
	cliHost = "10.0.0.30"
)

// TestInstancesBehindHAProxy: three pasteurs share two shards
// (pastes-{shard}.git on one git daemon) behind HAProxy, which spreads
// the clients' requests over them. Every acknowledged paste is on its
// shard's remote, and only there; every instance serves every paste (a
// miss fetches). Then wrk measures creates per second through HAProxy,
// three instances and two shards against one instance and one shard, and
// every paste it got a 200 for is on a remote.
func TestInstancesBehindHAProxy(t *testing.T) { instancesBehindHAProxy(t, "push") }

// TestInstancesBehindHAProxyAckDisk: the same with --ack disk on every
// instance: answers do not wait for the push race; every paste answered
// 200 is on a remote once the pushes behind the logs are done.
func TestInstancesBehindHAProxyAckDisk(t *testing.T) { instancesBehindHAProxy(t, "disk") }

func instancesBehindHAProxy(t *testing.T, ack string) {
	require(t, true, "git", "curl", "haproxy", "wrk")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bares := []string{newBareRepo(t, tmp, "pastes-0.git"), newBareRepo(t, tmp, "pastes-1.git")}
	single := newBareRepo(t, tmp, "single.git")
	bed, err := testbed.New("lb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	// A git daemon for the shards and one for the single repository,
	// so that the CPU each configuration's remote spends is told apart.
	daemons := []*exec.Cmd{gitDaemon(t, bed, tmp), gitDaemonOn(t, bed, tmp, "9419")}
	remote := "git://" + testbed.BridgeAddr + "/pastes-{shard}.git"
	profiles := os.Getenv("PASTEUR_E2E_PROFILE")

	// Three instances on two shards, and one on its own repository.
	var bases []string
	var nss []string
	var servers []*exec.Cmd
	for i := range 4 {
		addr := fmt.Sprintf("10.0.0.%d", 11+i)
		ns, err := bed.AddHost(fmt.Sprintf("p%d", i), addr+testbed.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"--bind", addr, "--data", filepath.Join(tmp, fmt.Sprintf("data%d", i)), "--log-level", "warn",
			"--metrics-addr", addr + metricsPort, "--ack", ack}
		if i < 3 {
			// Each writes new pastes to a shard of its own while it
			// can: the third shares shard 0 with the first.
			args = append(args, "--remote", remote, "--shards", "2", "--prefer-shard", strconv.Itoa(i%2))
		} else {
			args = append(args, "--remote", "git://"+testbed.BridgeAddr+":9419/single.git")
		}
		if profiles != "" {
			args = append(args, "--debug-addr", "127.0.0.1:6060")
		}
		logf, err := os.Create(filepath.Join(tmp, fmt.Sprintf("p%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		cmd := bed.Command(ns, append([]string{bin}, args...)...)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := bed.Start(cmd); err != nil {
			t.Fatal(err)
		}
		servers = append(servers, cmd)
		if err := bed.WaitTCP(ns, addr+":4343", 30*time.Second); err != nil {
			t.Fatal(err)
		}
		bases, nss = append(bases, "http://"+addr+":4343"), append(nss, ns)
	}
	lb, err := bed.AddHost("lb", lbAddr+testbed.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(tmp, "haproxy.cfg")
	writeFile(t, cfg, haproxyConfig(bases[:3], bases[3]))
	haproxy := bed.Command(lb, "haproxy", "-db", "-f", cfg)
	if err := bed.Start(haproxy); err != nil {
		t.Fatal(err)
	}
	for _, port := range []string{"8080", "8081"} {
		if err := bed.WaitTCP(lb, lbAddr+":"+port, 15*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	cli, err := bed.AddHost("cli", cliHost+testbed.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	front := "http://" + lbAddr + ":8080"
	// HAProxy marks its servers up after their first checks.
	for _, port := range []string{"8080", "8081"} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := bed.Run(cli, "curl", "-sS", "-f", "-m", "5", "http://"+lbAddr+":"+port+"/healthz"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("HAProxy on %s: no server up after 30s", port)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	// Pastes through HAProxy; every instance takes some.
	acked := load(t, bed, cli, front, "x", 30)()
	if len(acked) < 60 {
		t.Fatalf("%d pastes acknowledged of 120", len(acked))
	}
	for i := range 3 {
		waitShardsPushed(t, bed, nss[i], bases[i])
	}
	onShard := make([]map[string]bool, 2)
	for s, bare := range bares {
		onShard[s] = filesOn(t, bare)
	}
	perShard := make([]int, 2)
	for _, id := range acked {
		s := shard.Of(id, 2)
		perShard[s]++
		if !onShard[s][id] || onShard[1-s][id] {
			t.Errorf("paste %s (shard %d): on shard 0 %v, on shard 1 %v", id, s, onShard[0][id], onShard[1][id])
		}
	}
	t.Logf("%d acknowledged pastes, %d on shard 0, %d on shard 1", len(acked), perShard[0], perShard[1])
	if perShard[0] == 0 || perShard[1] == 0 {
		t.Errorf("a shard took no paste: %v", perShard)
	}
	// Any instance serves any paste: the last pastes, made on all three.
	// A miss fetches from the remote under the writer lock; when the
	// writer is busy with the remote past the miss's 3 s, the answer is a
	// 503 (seen on a loaded machine with --ack disk, the periodic fetch
	// slow on the busy git daemon): curl asks again, as a browser would.
	for _, id := range acked[len(acked)-6:] {
		for i := range 3 {
			out, err := bed.Run(cli, "curl", "-sS", "-f", "-m", "20", "--retry", "4", "--retry-delay", "1", "--retry-max-time", "40", bases[i]+"/"+id+"?raw=true")
			if err != nil || !strings.HasPrefix(out, "x ") {
				t.Errorf("instance %d serving %s: %q %v", i, id, out, err)
			}
		}
	}
	logsOnFailure(t, tmp)

	// Creates per second through HAProxy: 3 instances on 2 shards (port
	// 8080), 1 instance on 1 shard (port 8081), in turns.
	script := filepath.Join(tmp, "post.lua")
	writeFile(t, script, `counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/", {["Content-Type"] = "text/plain"}, "wrk paste " .. counter .. " " .. math.random(1, 1000000000) .. "\n")
end
`)
	before := len(filesOn(t, bares[0])) + len(filesOn(t, bares[1])) + len(filesOn(t, single))
	var rates [2][]float64
	okTotal := 0
	// The processes of each configuration, whose CPU is counted from
	// wrk's start until its server has pushed what it answered (with
	// --ack disk, the pushes behind the logs), and printed per create.
	configs := [2]struct {
		name  string
		port  string
		procs []procCPU
		first int // the first of its servers, and how many
		n     int
	}{
		{"3 instances, 2 shards", "8080", []procCPU{{"pasteur 0", servers[0].Process.Pid}, {"pasteur 1", servers[1].Process.Pid},
			{"pasteur 2", servers[2].Process.Pid}, {"git daemon (2 shards)", daemons[0].Process.Pid}, {"haproxy", haproxy.Process.Pid}}, 0, 3},
		{"1 instance, 1 shard", "8081", []procCPU{{"pasteur 3", servers[3].Process.Pid},
			{"git daemon (1 repo)", daemons[1].Process.Pid}, {"haproxy", haproxy.Process.Pid}}, 3, 1},
	}
	for round := range 2 {
		for k, c := range configs {
			out(t, "uptime")
			var waitProfiles []func()
			if profiles != "" {
				for i := c.first; i < c.first+c.n; i++ {
					file := filepath.Join(profiles, fmt.Sprintf("%s-r%d-p%d.pprof", ack, round, i))
					waitProfiles = append(waitProfiles, profile(bed, nss[i], file, 10))
				}
			}
			a := sampleCPU(c.procs)
			wrk := bed.Command(cli, "wrk", "-t", "2", "-c", "64", "-d", "10s", "-s", script, "http://"+lbAddr+":"+c.port+"/")
			var wout strings.Builder
			wrk.Stdout, wrk.Stderr = &wout, &wout
			if err := wrk.Run(); err != nil {
				t.Fatalf("wrk: %v %s", err, wout.String())
			}
			b := sampleCPU(c.procs)
			wrkCPU := wrk.ProcessState.UserTime() + wrk.ProcessState.SystemTime()
			for i := c.first; i < c.first+c.n; i++ {
				waitShardsPushed(t, bed, nss[i], bases[i])
			}
			drained := sampleCPU(c.procs)
			for _, w := range waitProfiles {
				w()
			}
			rate, ok := wrkFigures(t, wout.String())
			rates[k] = append(rates[k], rate)
			okTotal += ok
			t.Logf("round %d, %s: %.1f creates/s (%d answered 200)", round, c.name, rate, ok)
			extra := map[string]time.Duration{"wrk": wrkCPU}
			t.Logf("%s", cpuReport(fmt.Sprintf("--ack %s, %s, round %d, wrk's 10 s", ack, c.name, round), c.procs, a, b, extra, ok))
			t.Logf("%s", cpuReport(fmt.Sprintf("--ack %s, %s, round %d, wrk's 10 s and the pushes after", ack, c.name, round), c.procs, a, drained, extra, ok))
		}
	}
	out(t, "uptime")
	for i := range 4 {
		waitShardsPushed(t, bed, nss[i], bases[i])
	}
	after := len(filesOn(t, bares[0])) + len(filesOn(t, bares[1])) + len(filesOn(t, single))
	t.Logf("creates/s, --ack %s, 3 instances and 2 shards vs 1 and 1: %.2fx (%.1f vs %.1f, means of %d rounds)",
		ack, mean(rates[0])/mean(rates[1]), mean(rates[0]), mean(rates[1]), len(rates[0]))
	// A paste answered 200 is on a remote; wrk's requests cut at the end
	// may add a few more.
	if after-before < okTotal {
		t.Errorf("wrk got %d answers 200, the remotes gained %d pastes: %d lost", okTotal, after-before, okTotal-(after-before))
	}
	t.Logf("wrk: %d pastes answered 200, the remotes gained %d", okTotal, after-before)
	for _, bare := range append(bares, single) {
		fsck(t, bare)
	}
}

// profile fetches a CPU profile of secs seconds from the debug address of
// the pasteur in ns into file, in the background; the function it returns
// waits for it.
func profile(bed *testbed.Bed, ns, file string, secs int) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		bed.Run(ns, "curl", "-sS", "-f", "-m", fmt.Sprint(secs+60), "-o", file,
			fmt.Sprintf("http://127.0.0.1:6060/debug/pprof/profile?seconds=%d", secs))
	}()
	return func() { <-done }
}

// out logs what a command prints (uptime: the machine's load).
func out(t *testing.T, name string, args ...string) {
	t.Helper()
	b, _ := exec.Command(name, args...).CombinedOutput()
	t.Logf("%s: %s", name, strings.TrimSpace(string(b)))
}

// haproxyConfig balances port 8080 over the servers of three, and 8081 to
// one, checking /healthz. leastconn, not roundrobin: with --ack push a
// server that lost the race to push holds its requests while it fetches
// and replays, and round robin keeps sending it a third of them, until
// every client waits there and the other servers push groups of two or
// three pastes.
func haproxyConfig(three []string, one string) string {
	var b strings.Builder
	b.WriteString(`global
	maxconn 4096
defaults
	mode http
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	option http-server-close
frontend three
	bind ` + lbAddr + `:8080
	default_backend three
frontend one
	bind ` + lbAddr + `:8081
	default_backend one
backend three
	balance leastconn
	option httpchk GET /healthz
`)
	for i, base := range three {
		fmt.Fprintf(&b, "\tserver p%d %s check\n", i, strings.TrimPrefix(base, "http://"))
	}
	b.WriteString("backend one\n\toption httpchk GET /healthz\n")
	fmt.Fprintf(&b, "\tserver p3 %s check\n", strings.TrimPrefix(one, "http://"))
	return b.String()
}

// waitShardsPushed waits until the instance at base reports every remote
// (each shard's) reachable with nothing unpushed and nothing acknowledged
// that waits for a push (with --ack disk, in the log or committed), on
// its metrics address.
func waitShardsPushed(t *testing.T, bed *testbed.Bed, ns, base string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, _ := bed.Run(ns, "curl", "-s", "-m", "5", strings.Replace(base, ":4343", metricsPort, 1)+"/healthz")
		type status struct {
			Reachable, Unpushed bool
			Queued              int
		}
		var h struct {
			Remote *status
			Shards []status
		}
		if json.Unmarshal([]byte(out), &h) == nil {
			all := h.Shards
			if h.Remote != nil {
				all = append(all, *h.Remote)
			}
			done := len(all) > 0
			for _, s := range all {
				done = done && s.Reachable && !s.Unpushed && s.Queued == 0
			}
			if done {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not pushed after 90s: %s", base, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// filesOn returns the paste ids on the master branch of bare.
func filesOn(t *testing.T, bare string) map[string]bool {
	t.Helper()
	have := make(map[string]bool)
	for _, p := range strings.Fields(git(t, bare, "ls-tree", "-r", "--name-only", "master")) {
		have[p[strings.LastIndex(p, "/")+1:]] = true
	}
	return have
}

var (
	wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkAll  = regexp.MustCompile(`(\d+) requests in`)
	wrkBad  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// wrkFigures reads wrk's requests per second and its count of 2xx
// answers.
func wrkFigures(t *testing.T, out string) (float64, int) {
	t.Helper()
	m, n := wrkRate.FindStringSubmatch(out), wrkAll.FindStringSubmatch(out)
	if m == nil || n == nil {
		t.Fatalf("wrk said:\n%s", out)
	}
	rate, _ := strconv.ParseFloat(m[1], 64)
	all, _ := strconv.Atoi(n[1])
	bad := 0
	if b := wrkBad.FindStringSubmatch(out); b != nil {
		bad, _ = strconv.Atoi(b[1])
		t.Logf("wrk: %d answers were not 200", bad)
	}
	return rate * float64(all-bad) / float64(max(all, 1)), all - bad
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(max(len(v), 1))
}

// logsOnFailure shows the instances' logs when the test failed.
func logsOnFailure(t *testing.T, tmp string) {
	if !t.Failed() {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(tmp, "p*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		t.Logf("%s:\n%s", filepath.Base(l), b)
	}
}
