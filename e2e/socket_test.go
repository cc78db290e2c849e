package e2e

import (
	"bytes"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSocketModeFirstRun is the newcomer's run: no root, no remote, the
// host's sockets on loopback, a repository pasteur creates itself. The
// paste is a commit there and survives a restart.
func TestSocketModeFirstRun(t *testing.T) {
	require(t, false, "git")
	bin := buildPasteur(t)
	data := filepath.Join(t.TempDir(), "pasteur-data")
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)

	stop := startLocal(t, bin, "--port", strconv.Itoa(port), "--data", data)
	page := mustGet(t, base+"/")
	if !strings.Contains(page, `name="paste"`) {
		t.Fatalf("no form at /:\n%s", page)
	}
	content := "line one\nline <two>\n"
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("paste", content)
	mw.WriteField("user", "ann")
	mw.Close()
	resp, err := http.Post(base+"/", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	url := strings.TrimSpace(string(b))
	if resp.StatusCode != 200 || !strings.HasPrefix(url, base+"/") {
		t.Fatalf("POST /: %d %q", resp.StatusCode, b)
	}
	id := strings.TrimPrefix(url, base+"/")
	if author := lastAuthor(t, data, "ann"); author != "ann" {
		t.Errorf("commit author %q, want the user", author)
	}
	pathOf(t, data, id)
	stop()

	startLocal(t, bin, "--port", strconv.Itoa(port), "--data", data)
	if got := mustGet(t, url+"?raw=true"); got != content {
		t.Fatalf("after restart: %q", got)
	}
}

// startLocal runs pasteur on the host's sockets and waits until it serves;
// the returned function stops it (it is also stopped at cleanup).
func startLocal(t *testing.T, bin string, args ...string) func() {
	t.Helper()
	var log bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("pasteur did not stop on SIGTERM")
		}
		if t.Failed() {
			t.Logf("pasteur's log:\n%s", log.String())
		}
	}
	t.Cleanup(stop)
	addr := ""
	for i, a := range args {
		if a == "--port" {
			addr = "127.0.0.1:" + args[i+1]
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("pasteur does not accept on %s: %v\n%s", addr, err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func mustGet(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}
