package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// gitDaemon runs git daemon in the bridge namespace, serving base.
func gitDaemon(t *testing.T, bed *testbed.Bed, base string) *exec.Cmd {
	t.Helper()
	return gitDaemonOn(t, bed, base, "9418")
}

// gitDaemonOn is gitDaemon listening on port.
func gitDaemonOn(t *testing.T, bed *testbed.Bed, base, port string) *exec.Cmd {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	// git-daemon itself, so that killing its pid stops it.
	return startPeer(t, bed, testbed.BridgeAddr+":"+port, filepath.Join(strings.TrimSpace(string(out)), "git-daemon"),
		"--listen="+testbed.BridgeAddr, "--port="+port, "--base-path="+base, "--export-all", "--enable=receive-pack", "--reuseaddr")
}

// load starts pasting in ns to base (4 clients, n each, bounded in
// time) and returns a function that waits for them and returns the ids
// acknowledged (answered 200 with the paste's URL).
func load(t *testing.T, bed *testbed.Bed, ns, base, tag string, n int) func() []string {
	t.Helper()
	// Each client gives up after 5 failures in a row (the server is
	// gone).
	script := fmt.Sprintf(`for c in 1 2 3 4; do (f=0; for i in $(seq 1 %d); do
		if curl -s -f -m 15 -F "paste=%s $c $i" %s/; then f=0; else f=$((f+1)); [ $f -ge 5 ] && break; sleep 0.2; fi
	done) & done; wait`, n, tag, base)
	cmd := bed.Command(ns, "timeout", "120", "bash", "-c", script)
	var out strings.Builder
	cmd.Stdout = &out
	if err := bed.Start(cmd); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		cmd.Wait()
		var ids []string
		for _, line := range strings.Fields(out.String()) {
			if id, ok := strings.CutPrefix(line, base+"/"); ok {
				ids = append(ids, id)
			}
		}
		return ids
	}
}

// waitPushed waits until pasteur at base says (on its metrics address)
// it holds nothing unpushed, nothing acknowledged waits for a push (with
// --ack disk, in the log or committed), and the remote is reachable.
func waitPushed(t *testing.T, bed *testbed.Bed, ns, base string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		h, _ := bed.Run(ns, "curl", "-s", "-m", "5", strings.Replace(base, ":4343", metricsPort, 1)+"/healthz")
		if strings.Contains(h, `"reachable": true`) && strings.Contains(h, `"unpushed": false`) && strings.Contains(h, `"queued": 0,`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not pushed after 90s: %s", h)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkRemote fails for each acknowledged id missing from the remote.
func checkRemote(t *testing.T, bare string, ids []string) {
	t.Helper()
	files := git(t, bare, "ls-tree", "-r", "--name-only", "master")
	have := make(map[string]bool)
	for _, p := range strings.Fields(files) {
		have[p[strings.LastIndex(p, "/")+1:]] = true
	}
	missing := 0
	for _, id := range ids {
		if !have[id] {
			missing++
			t.Errorf("acknowledged paste %s is not on the remote", id)
		}
	}
	t.Logf("%d acknowledged pastes, %d missing from the remote", len(ids), missing)
	fsck(t, bare)
}

// TestRemoteGoesAway: the remote disappears in the middle of a load and
// comes back; then pasteur is killed with SIGKILL in the middle of a load,
// while the remote is down, and restarted. Every paste acknowledged ends up
// on the remote.
func TestRemoteGoesAway(t *testing.T) {
	require(t, true, "git", "curl")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pastes.git")
	bed, err := testbed.New("flt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	daemon := gitDaemon(t, bed, tmp)
	base := "http://" + testbed.TapAddr + ":4343"
	data := filepath.Join(tmp, "data")
	args := []string{"--remote", "git://" + testbed.BridgeAddr + "/pastes.git", "--data", data}
	srv := startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur", args: args})

	// The remote goes away for three seconds during a load.
	wait := load(t, bed, bed.Bridge, base, "away", 100)
	time.Sleep(time.Second)
	bed.Stop(daemon)
	time.Sleep(3 * time.Second)
	clearStaleLocks(t, bare)
	daemon = gitDaemon(t, bed, tmp)
	acked := wait()
	waitPushed(t, bed, bed.Bridge, base)
	checkRemote(t, bare, acked)

	// SIGKILL during a load while the remote is down, then a restart.
	wait = load(t, bed, bed.Bridge, base, "kill", 100)
	time.Sleep(500 * time.Millisecond)
	bed.Stop(daemon)
	time.Sleep(time.Second)
	srv.kill()
	killed := wait()
	clearStaleLocks(t, bare)
	gitDaemon(t, bed, tmp)
	startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur-restarted", args: args})
	waitPushed(t, bed, bed.Bridge, base)
	checkRemote(t, bare, append(acked, killed...))
	if len(killed) == 0 {
		t.Error("no paste was acknowledged before the kill: the test proves little")
	}
}

// clearStaleLocks removes the lock files of the bare repository's refs, as
// its operator does after its server crashed: the daemon is stopped with
// SIGKILL, and a git receive-pack killed while it held the branch's lock
// leaves refs/heads/master.lock behind, which refuses every later push
// (pasteur's included: it reports the remote's reason and keeps its
// pastes queued) until someone removes it.
func clearStaleLocks(t *testing.T, bare string) {
	t.Helper()
	locks, _ := filepath.Glob(filepath.Join(bare, "refs", "heads", "*.lock"))
	if more, _ := filepath.Glob(filepath.Join(bare, "*.lock")); len(more) > 0 {
		locks = append(locks, more...)
	}
	for _, l := range locks {
		if err := os.Remove(l); err != nil {
			t.Fatal(err)
		}
		t.Logf("removed %s, left by the killed git receive-pack", l)
	}
}

// TestTwoInstances: two pasteurs, one on tap100 and one on the host stack
// of another namespace, take pastes concurrently into one remote: pushes
// race, are refused, replayed and pushed again; every acknowledged paste is
// on the remote, and each instance serves the other's.
func TestTwoInstances(t *testing.T) {
	require(t, true, "git", "curl")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pastes.git")
	bed, err := testbed.New("two")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	gitDaemon(t, bed, tmp)
	remote := "git://" + testbed.BridgeAddr + "/pastes.git"
	startPasteur(t, bed, pasteurRun{bin: bin, name: "tap", args: []string{"--remote", remote, "--data", filepath.Join(tmp, "a")}})
	other, err := bed.AddHost("b", "10.0.0.5/24")
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(tmp, "b.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	b := bed.Command(other, bin, "--bind", "10.0.0.5", "--remote", remote, "--data", filepath.Join(tmp, "b"), "--metrics-addr", "10.0.0.5"+metricsPort)
	b.Stdout, b.Stderr = logf, logf
	if err := bed.Start(b); err != nil {
		t.Fatal(err)
	}
	if err := bed.WaitTCP(other, "10.0.0.5:4343", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	baseA, baseB := "http://"+testbed.TapAddr+":4343", "http://10.0.0.5:4343"
	waitA := load(t, bed, bed.Bridge, baseA, "a", 50)
	waitB := load(t, bed, other, baseB, "b", 50)
	ackA, ackB := waitA(), waitB()
	if len(ackA) == 0 || len(ackB) == 0 {
		t.Fatalf("acknowledged: %d on a, %d on b", len(ackA), len(ackB))
	}
	// Some may have been acknowledged as queued, when the other kept
	// winning the race to push: both push them in the end.
	waitPushed(t, bed, bed.Bridge, baseA)
	waitPushed(t, bed, other, baseB)
	checkRemote(t, bare, append(ackA, ackB...))
	// Each serves the other's paste (a miss fetches).
	if out, err := bed.Run(bed.Bridge, "curl", "-sS", "-f", "-m", "20", baseA+"/"+ackB[0]+"?raw=true"); err != nil || !strings.HasPrefix(out, "b ") {
		t.Errorf("a serving b's paste: %q %v", out, err)
	}
	if out, err := bed.Run(other, "curl", "-sS", "-f", "-m", "20", baseB+"/"+ackA[0]+"?raw=true"); err != nil || !strings.HasPrefix(out, "a ") {
		t.Errorf("b serving a's paste: %q %v", out, err)
	}
	if t.Failed() {
		lb, _ := os.ReadFile(logf.Name())
		t.Logf("b's log:\n%s", lb)
	}
}
