package e2e

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// require skips the test unless PASTEUR_E2E=1 asks for the end-to-end
// tests (they take minutes; make test sets it), and then fails it when
// the machine lacks what it needs.
func require(t *testing.T, root bool, cmds ...string) {
	t.Helper()
	if os.Getenv("PASTEUR_E2E") != "1" {
		t.Skip("an end-to-end test: set PASTEUR_E2E=1 to run it (make test does; it needs root, /dev/net/tun and the packages make deps installs)")
	}
	var why string
	if root {
		if err := testbed.Check(); err != nil {
			why = err.Error()
		}
	}
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil && why == "" {
			why = "needs " + c + " (make test installs it)"
		}
	}
	if why == "" {
		return
	}
	t.Fatalf("end-to-end test cannot run: %s", why)
}

// buildPasteur builds the binary as it ships: CGO_ENABLED=0; or returns
// PASTEUR_E2E_BIN when set (a binary built elsewhere, for A/B runs of the
// benchmarks some tests print).
func buildPasteur(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("PASTEUR_E2E_BIN"); bin != "" {
		return bin
	}
	bin, err := testbed.BuildPasteur(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// newBareRepo makes a bare repository with one empty commit on master, as
// the original pasteur's README does, and returns its directory.
func newBareRepo(t *testing.T, base, name string) string {
	t.Helper()
	dir := filepath.Join(base, name)
	git(t, "", "init", "-q", "--bare", dir)
	git(t, dir, "config", "receive.denyCurrentBranch", "ignore")
	tree := strings.TrimSpace(git(t, dir, "write-tree"))
	commit := strings.TrimSpace(git(t, dir, "commit-tree", tree, "-m", "."))
	git(t, dir, "update-ref", "refs/heads/master", commit)
	return dir
}

// git runs git with --git-dir=dir (when dir is set) and returns its output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	if dir != "" {
		args = append([]string{"--git-dir=" + dir}, args...)
	}
	cmd := exec.Command("git", args...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@test", "GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// fsck checks the bare repository dir with git fsck, once no git gc has
// run in it for a second (2 minutes at most): receive-pack starts `git gc
// --auto` after a push, detached, and a gc that deletes the packs it
// merged while fsck reads them makes fsck report their indexes as not
// opened.
func fsck(t *testing.T, dir string, args ...string) {
	t.Helper()
	quiet := time.Now()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "gc.pid")); !errors.Is(err, fs.ErrNotExist) {
			quiet = time.Now()
		} else if time.Since(quiet) >= time.Second {
			break
		}
	}
	git(t, dir, append([]string{"fsck"}, args...)...)
}

// lastAuthor returns the author of the last commit on master of the
// repository in dir once it is want, or after 10 s: without a remote,
// pasteur answers a paste once its write-ahead log holds it, and commits
// it a few milliseconds later.
func lastAuthor(t *testing.T, dir, want string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := exec.Command("git", "--git-dir="+dir, "log", "-1", "--format=%an", "master").Output()
		if got := strings.TrimSpace(string(out)); err == nil && got == want || time.Now().After(deadline) {
			return got
		}
	}
}

// waitOnBranch waits up to 10 s for paste id to be on master of the
// repository in dir (see lastAuthor), and returns its path.
func waitOnBranch(t *testing.T, dir, id string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out, _ := exec.Command("git", "--git-dir="+dir, "ls-tree", "-r", "--name-only", "master").Output()
		for _, p := range strings.Fields(string(out)) {
			if p == id || strings.HasSuffix(p, "/"+id) {
				return p
			}
		}
	}
	return pathOf(t, dir, id)
}

// pathOf finds the file that holds paste id in the repository's master.
func pathOf(t *testing.T, dir, id string) string {
	t.Helper()
	for _, p := range strings.Fields(git(t, dir, "ls-tree", "-r", "--name-only", "master")) {
		if p == id || strings.HasSuffix(p, "/"+id) {
			return p
		}
	}
	t.Fatalf("paste %s is not in %s's master", id, dir)
	return ""
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func createFile(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Errorf("read %s: %v", p, err)
	}
	return string(bytes.ToValidUTF8(b, []byte("?")))
}
