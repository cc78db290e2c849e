package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// TestTapToGitDaemon is the deployment of the README: pasteur on tap100
// bridged to br1, git daemon on 10.0.0.1, a paste sent from the bridge side
// travels through the userspace stack into the daemon's repository, and the
// process never opens a host IP socket.
func TestTapToGitDaemon(t *testing.T) {
	require(t, true, "git", "strace", "curl")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pasteur")

	bed, err := testbed.New("e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)

	startPeer(t, bed, testbed.BridgeAddr+":9418", "git", "daemon", "--listen="+testbed.BridgeAddr, "--base-path="+tmp,
		"--export-all", "--enable=receive-pack", "--reuseaddr", "--informative-errors")
	srv := startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur", strace: true,
		args: []string{"--remote", "git://" + testbed.BridgeAddr + "/pasteur", "--data", filepath.Join(tmp, "data")}})
	base := "http://" + testbed.TapAddr + ":4343"

	// curl -F paste=@file answers the URL on one line.
	content := "package main\n\nfunc main() {\n\tprintln(\"héllo, 🦀\")\r\n}\n"
	file := filepath.Join(tmp, "snippet.go")
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := bed.Run(bed.Bridge, "curl", "-sS", "--fail-with-body", "-m", "20", "-F", "paste=@"+file, "-F", "comment=first paste", base+"/")
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(out)
	id := strings.TrimPrefix(url, base+"/")
	if !strings.HasPrefix(url, base+"/") || strings.ContainsAny(id, "/?# ") {
		t.Fatalf("curl -F answered %q, want %s/ID", out, base)
	}

	// The paste is a commit in the daemon's repository...
	var stored struct {
		Contents  string `json:"contents"`
		Encrypted bool   `json:"encrypted"`
	}
	blob := git(t, bare, "show", "master:"+pathOf(t, bare, id))
	if err := json.Unmarshal([]byte(blob), &stored); err != nil || stored.Contents != content || stored.Encrypted {
		t.Fatalf("remote holds %q (%v), want the paste", blob, err)
	}
	if msg := git(t, bare, "log", "-1", "--format=%s", "master"); strings.TrimSpace(msg) != "first paste" {
		t.Errorf("commit message %q, want the comment", msg)
	}
	// ...and is served back byte for byte.
	raw, err := bed.Run(bed.Bridge, "curl", "-sS", "--fail-with-body", "-m", "20", url+"?raw=true")
	if err != nil || raw != content {
		t.Fatalf("raw paste: %q, %v", raw, err)
	}
	page, err := bed.Run(bed.Bridge, "curl", "-sS", "--fail-with-body", "-m", "20", url)
	if err != nil || !strings.Contains(page, "println(&#34;héllo, 🦀&#34;)") {
		t.Fatalf("paste page: %v\n%s", err, page)
	}

	// The original's JSON answer.
	out, err = bed.Run(bed.Bridge, "curl", "-sS", "--fail-with-body", "-m", "20", "-H", "Accept: application/json",
		"-F", "paste=second", "-F", "hl=go", "-F", "ln=on", base+"/")
	var resp struct {
		Code string `json:"code"`
		HL   string `json:"hl"`
		LN   bool   `json:"ln"`
	}
	if err != nil || json.Unmarshal([]byte(out), &resp) != nil || resp.HL != "go" || !resp.LN {
		t.Fatalf("JSON answer %q: %v", out, err)
	}
	pathOf(t, bare, resp.Code)

	// Bad input gets a clear answer; an unknown paste is a 404.
	if out, _ := bed.Run(bed.Bridge, "curl", "-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", "-F", "nopaste=x", base+"/"); out != "400" {
		t.Errorf("missing paste: status %s, want 400", out)
	}
	if out, _ := bed.Run(bed.Bridge, "curl", "-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", base+"/doesnotexist"); out != "404" {
		t.Errorf("unknown paste: status %s, want 404", out)
	}

	// Stop pasteur: strace saw no AF_INET or AF_INET6 socket, ever.
	srv.stop(t)
}
