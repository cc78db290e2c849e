// Package gittest runs the real git for gitsync's tests: commands in a
// clean environment, bare repositories, and on loopback, git daemon, an
// ssh server running git's upload-pack and receive-pack, and git
// http-backend behind TLS. Nothing here needs root.
package gittest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/netx"
)

// Require skips the test when git is missing, unless PASTEUR_E2E=1.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("PASTEUR_E2E") == "1" {
			t.Fatal("git is required with PASTEUR_E2E=1:", err)
		}
		t.Skip("git not installed:", err)
	}
}

// Env is the environment git runs in: isolated from the user's
// configuration.
func Env(t testing.TB) []string {
	home := t.TempDir()
	return append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@localhost",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@localhost")
}

// Run runs git with args and stdin, and returns its output.
func Run(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Env = Env(t)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, stderr.Bytes())
	}
	return string(out)
}

// Git runs git in repository dir and returns its output.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	return Run(t, "", append([]string{"--git-dir=" + dir}, args...)...)
}

// Bare makes the bare repository dir, as the original pasteur's README
// did: one empty commit on master when withCommit.
func Bare(t testing.TB, dir string, withCommit bool) {
	t.Helper()
	Require(t)
	Run(t, "", "init", "--quiet", "--bare", "--initial-branch=master", dir)
	if withCommit {
		Git(t, dir, "read-tree", "--empty")
		tree := strings.TrimSpace(Git(t, dir, "write-tree"))
		commit := strings.TrimSpace(Git(t, dir, "commit-tree", "-m", "Initial commit", tree))
		Git(t, dir, "update-ref", "refs/heads/master", commit)
	}
}

// Fsck checks repository dir. git's own empty tree, which Bare leaves
// unwritten, is written first.
func Fsck(t testing.TB, dir string) {
	t.Helper()
	Run(t, "", "--git-dir="+dir, "hash-object", "-t", "tree", "-w", "/dev/null")
	Git(t, dir, "fsck", "--strict")
}

// ExecPath is the directory of git's programs (git-daemon,
// git-upload-pack, git-http-backend...).
func ExecPath(t testing.TB) string {
	t.Helper()
	return strings.TrimSpace(Run(t, "", "--exec-path"))
}

// Daemon is a git daemon serving the bare repositories in Base, with
// pushes enabled, on loopback.
type Daemon struct {
	Base string // the directory of the repositories
	Addr string // host:port
	bin  string
	cmd  *exec.Cmd
}

// StartDaemon runs git daemon on a free loopback port; it is killed when
// the test ends.
func StartDaemon(t testing.TB) *Daemon {
	t.Helper()
	Require(t)
	host := &netx.Host{}
	l, err := host.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// Run git-daemon itself: "git daemon" would run it as a child, which
	// killing git by its pid would leave serving.
	d := &Daemon{Base: t.TempDir(), Addr: "127.0.0.1:" + strconv.Itoa(port),
		bin: filepath.Join(ExecPath(t), "git-daemon")}
	d.Start(t)
	t.Cleanup(d.Kill)
	return d
}

// Start runs the daemon, again after Kill, on the same port and base.
func (d *Daemon) Start(t testing.TB) {
	t.Helper()
	_, port, _ := net.SplitHostPort(d.Addr)
	d.cmd = exec.Command(d.bin, "--base-path="+d.Base, "--export-all",
		"--enable=receive-pack", "--reuseaddr", "--listen=127.0.0.1", "--port="+port)
	d.cmd.Env = Env(t)
	if testing.Verbose() {
		d.cmd.Stderr = os.Stderr
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	host := &netx.Host{}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := host.Dial(context.Background(), "tcp", d.Addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("git daemon does not answer:", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the daemon (by its pid) and waits for it.
func (d *Daemon) Kill() {
	if d.cmd.ProcessState == nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
	}
}

// NewRepo makes the bare repository name in Base (see Bare) and returns
// its git:// URL and its directory.
func (d *Daemon) NewRepo(t testing.TB, name string, withCommit bool) (url, dir string) {
	t.Helper()
	dir = filepath.Join(d.Base, name)
	Bare(t, dir, withCommit)
	AllowPartial(t, dir)
	return "git://" + d.Addr + "/" + name, dir
}

// AllowPartial lets clients of repository dir fetch it partially (a
// filter) and ask for any object by hash, as GitHub and GitLab do: a
// store's first fetch is then the tip alone.
func AllowPartial(t testing.TB, dir string) {
	t.Helper()
	Git(t, dir, "config", "uploadpack.allowFilter", "true")
	Git(t, dir, "config", "uploadpack.allowAnySHA1InWant", "true")
}

// ForbidPartial undoes AllowPartial: a store's first fetch is then the
// whole history.
func ForbidPartial(t testing.TB, dir string) {
	t.Helper()
	Git(t, dir, "config", "uploadpack.allowFilter", "false")
	Git(t, dir, "config", "uploadpack.allowAnySHA1InWant", "false")
}
