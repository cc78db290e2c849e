package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// TestKillDuringLoggedLoad: pasteur without a remote answers pastes once
// its write-ahead log holds them; killed with SIGKILL in the middle of a
// load of 16 clients and restarted, it holds every paste it acknowledged
// (replayed from the log when the kill came before their commit), each
// once, and serves them.
func TestKillDuringLoggedLoad(t *testing.T) {
	require(t, true, "git", "curl")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bed, err := testbed.New("wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	base := "http://" + testbed.TapAddr + ":4343"
	data := filepath.Join(tmp, "data")
	args := []string{"--data", data}
	srv := startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur", args: args})

	acked := loadAndKill(t, bed, srv, base, "wal")

	restarted := startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur-restarted", args: args})
	for _, line := range strings.Split(readFile(t, restarted.log), "\n") {
		if strings.Contains(line, "write-ahead log") {
			t.Log(line)
		}
	}
	stored := storedContents(t, data)
	byContents := make(map[string]int)
	for _, c := range stored {
		byContents[c]++
	}
	lost, duplicated := 0, 0
	for _, id := range acked {
		if _, ok := stored[id]; !ok {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged paste %s is not in the repository after the restart", id)
			}
		}
	}
	for c, n := range byContents {
		if n > 1 {
			duplicated++
			t.Errorf("%q is stored %d times", c, n)
		}
	}
	t.Logf("acknowledged %d, stored after the restart %d, lost %d, duplicated %d", len(acked), len(stored), lost, duplicated)
	// And served: the first and the last acknowledged.
	for _, id := range []string{acked[0], acked[len(acked)-1]} {
		raw, err := bed.Run(bed.Bridge, "curl", "-s", "-f", "-m", "10", base+"/"+id+"?raw=true")
		if err != nil || stored[id] != raw {
			t.Errorf("GET %s after the restart: %q, %v; stored %q", id, raw, err, stored[id])
		}
	}
}

// storedContents returns the contents of every paste on the branch of the
// repository in dir, by id.
func storedContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	var objects []string
	ids := make(map[string]string) // blob: id
	for _, line := range strings.Split(strings.TrimSpace(git(t, dir, "ls-tree", "-r", "HEAD")), "\n") {
		// "100644 blob HASH\tPATH"
		f := strings.Fields(line)
		if len(f) != 4 {
			continue
		}
		ids[f[2]] = f[3][strings.LastIndex(f[3], "/")+1:]
		objects = append(objects, f[2])
	}
	cat := exec.Command("git", "--git-dir", dir, "cat-file", "--batch")
	cat.Stdin = strings.NewReader(strings.Join(objects, "\n") + "\n")
	b, err := cat.Output()
	if err != nil {
		t.Fatalf("git cat-file: %v", err)
	}
	got := make(map[string]string)
	for rest := string(b); rest != ""; {
		header, after, _ := strings.Cut(rest, "\n")
		var hash, kind string
		var size int
		if _, err := fmt.Sscan(header, &hash, &kind, &size); err != nil || size > len(after) {
			t.Fatalf("git cat-file: %q", header)
		}
		var doc struct {
			Contents string `json:"contents"`
		}
		if err := json.Unmarshal([]byte(after[:size]), &doc); err != nil {
			t.Fatalf("paste %s: %v", ids[hash], err)
		}
		got[ids[hash]] = doc.Contents
		rest = after[size+1:]
	}
	return got
}

// TestKillDuringAckDiskLoad: with --ack disk and a git daemon remote,
// pasteur is killed with SIGKILL in the middle of a load of 16 clients,
// pastes answered from the write-ahead log and not yet pushed; once
// restarted, it commits the log and pushes it. Every acknowledged paste
// is then in the local repository and on the remote, once each.
func TestKillDuringAckDiskLoad(t *testing.T) {
	require(t, true, "git", "curl")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pastes.git")
	bed, err := testbed.New("ackd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	gitDaemon(t, bed, tmp)
	base := "http://" + testbed.TapAddr + ":4343"
	data := filepath.Join(tmp, "data")
	args := []string{"--data", data, "--remote", "git://" + testbed.BridgeAddr + "/pastes.git", "--ack", "disk"}
	srv := startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur", args: args})

	acked := loadAndKill(t, bed, srv, base, "ackdisk")
	onRemoteAtKill := len(filesOn(t, bare))

	restarted := startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur-restarted", args: args})
	for _, line := range strings.Split(readFile(t, restarted.log), "\n") {
		if strings.Contains(line, "write-ahead log") {
			t.Log(line)
		}
	}
	waitPushed(t, bed, bed.Bridge, base)
	local, remote := storedContents(t, data), storedContents(t, bare)
	count := func(stored map[string]string, where string) (lost, duplicated int) {
		byContents := make(map[string]int)
		for _, c := range stored {
			byContents[c]++
		}
		for _, id := range acked {
			if _, ok := stored[id]; !ok {
				lost++
				if lost <= 5 {
					t.Errorf("acknowledged paste %s is not %s", id, where)
				}
			}
		}
		for c, n := range byContents {
			if n > 1 {
				duplicated++
				t.Errorf("%q is %s %d times", c, where, n)
			}
		}
		return lost, duplicated
	}
	lostLocal, dupLocal := count(local, "in the local repository")
	lostRemote, dupRemote := count(remote, "on the remote")
	t.Logf("acknowledged %d; on the remote at the kill %d; after the restart: local %d (lost %d, duplicated %d), remote %d (lost %d, duplicated %d)",
		len(acked), onRemoteAtKill, len(local), lostLocal, dupLocal, len(remote), lostRemote, dupRemote)
	fsck(t, bare)
	for _, id := range []string{acked[0], acked[len(acked)-1]} {
		raw, err := bed.Run(bed.Bridge, "curl", "-s", "-f", "-m", "10", base+"/"+id+"?raw=true")
		if err != nil || remote[id] != raw {
			t.Errorf("GET %s after the restart: %q, %v; on the remote %q", id, raw, err, remote[id])
		}
	}
}

// loadAndKill runs 16 clients pasting "tag C I" into base (300 pastes
// each at most, 60 s at most; each gives up after 5 failures in a row),
// kills srv with SIGKILL 3 s in, and returns the ids acknowledged. It
// fails t when none was: the test would prove nothing.
func loadAndKill(t *testing.T, bed *testbed.Bed, srv *pasteur, base, tag string) []string {
	t.Helper()
	script := `for c in $(seq 1 16); do (f=0; for i in $(seq 1 300); do
		if curl -s -f -m 15 -F "paste=` + tag + ` $c $i" ` + base + `/; then f=0; else f=$((f+1)); [ $f -ge 5 ] && break; sleep 0.2; fi
	done) & done; wait`
	cmd := bed.Command(bed.Bridge, "timeout", "60", "bash", "-c", script)
	var out strings.Builder
	cmd.Stdout = &out
	if err := bed.Start(cmd); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	srv.kill()
	cmd.Wait()
	var acked []string
	for _, line := range strings.Fields(out.String()) {
		if id, ok := strings.CutPrefix(line, base+"/"); ok {
			acked = append(acked, id)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no paste was acknowledged before the kill: the test proves nothing")
	}
	return acked
}
