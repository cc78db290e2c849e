package gitsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
)

// requireGit skips the test when git is missing, unless PASTEUR_E2E=1.
func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("PASTEUR_E2E") == "1" {
			t.Fatal("git is required with PASTEUR_E2E=1:", err)
		}
		t.Skip("git not installed:", err)
	}
}

// gitEnv isolates git from the user's configuration.
func gitEnv(t *testing.T) []string {
	home := t.TempDir()
	return append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@localhost",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@localhost")
}

// git runs git in repository dir and returns its output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"--git-dir=" + dir}, args...)...)
	cmd.Env = gitEnv(t)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("git %v: %v\n%s%s", args, err, out, stderr)
	}
	return string(out)
}

// daemon is a git daemon serving the bare repositories in base.
type daemon struct {
	bin  string
	base string
	addr string
	cmd  *exec.Cmd
}

// startDaemon runs git daemon on a free loopback port, with pushes enabled.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	requireGit(t)
	host := &netx.Host{}
	l, err := host.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	// Run git-daemon itself: "git daemon" would run it as a child, which
	// killing git by its pid would leave serving.
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{base: t.TempDir(), addr: "127.0.0.1:" + strconv.Itoa(port),
		bin: filepath.Join(strings.TrimSpace(string(execPath)), "git-daemon")}
	d.start(t)
	t.Cleanup(d.kill)
	return d
}

// start runs the daemon, again after kill, on the same port and base.
func (d *daemon) start(t *testing.T) {
	t.Helper()
	_, port, _ := net.SplitHostPort(d.addr)
	d.cmd = exec.Command(d.bin, "--base-path="+d.base, "--export-all",
		"--enable=receive-pack", "--reuseaddr", "--listen=127.0.0.1", "--port="+port)
	d.cmd.Env = gitEnv(t)
	if testing.Verbose() {
		d.cmd.Stderr = os.Stderr
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	host := &netx.Host{}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := host.Dial(context.Background(), "tcp", d.addr)
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

// kill stops the daemon (by its pid) and waits for it.
func (d *daemon) kill() {
	if d.cmd.ProcessState == nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
	}
}

// newRemote makes the bare repository name, as the original pasteur's
// README did: one empty commit on master when withCommit.
func (d *daemon) newRemote(t *testing.T, name string, withCommit bool) (url, dir string) {
	t.Helper()
	dir = filepath.Join(d.base, name)
	cmd := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=master", dir)
	cmd.Env = gitEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if withCommit {
		git(t, dir, "read-tree", "--empty")
		tree := strings.TrimSpace(git(t, dir, "write-tree"))
		commit := strings.TrimSpace(git(t, dir, "commit-tree", "-m", "Initial commit", tree))
		git(t, dir, "update-ref", "refs/heads/master", commit)
	}
	return "git://" + d.addr + "/" + name, dir
}

// fsck checks remote dir. git's own empty tree, which the README's recipe
// leaves unwritten, is written first.
func fsck(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("git", "--git-dir="+dir, "hash-object", "-t", "tree", "-w", "--stdin")
	cmd.Env = gitEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git hash-object: %v\n%s", err, out)
	}
	git(t, dir, "fsck", "--strict")
}

// open opens a store on disk synced with url.
func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := openDir(t, url, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openDir(t *testing.T, url, dir string) (*Store, error) {
	host := &netx.Host{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Open(ctx, Config{Dir: dir, Remote: url, Dial: host.Dial, Logger: testLogger(t)})
}

func tipOf(t *testing.T, s *Store) plumbing.Hash {
	s.mu.Lock()
	defer s.mu.Unlock()
	return tipHash(t, s)
}

func TestRemoteCreateGet(t *testing.T) {
	d := startDaemon(t)
	url, dir := d.newRemote(t, "pastes.git", true)
	s1 := open(t, url)
	p := &paste.Paste{ID: "abcdefghijklm", Contents: []byte("over the wire\n"), Language: "txt", User: "bob", Comment: "hi"}
	mustCreate(t, s1, p)
	mustCreate(t, s1, &paste.Paste{ID: "x", Contents: []byte("short")})

	want, _ := paste.Marshal(p)
	if got := git(t, dir, "show", "master:a/b/abcdefghijklm"); got != string(want) {
		t.Errorf("remote holds %q, want %q", got, want)
	}
	if got := git(t, dir, "log", "-1", "--skip=1", "--format=%an|%ae|%s", "master"); got != "bob|pasteur@localhost|hi\n" {
		t.Errorf("remote commit: %q", got)
	}
	fsck(t, dir)

	// A second store, on an empty directory, reads it after Open's fetch.
	s2 := open(t, url)
	samePaste(t, mustGet(t, s2, p.ID), p)
	samePaste(t, mustGet(t, s2, "x"), &paste.Paste{ID: "x", Contents: []byte("short")})
	if tipOf(t, s1) != tipOf(t, s2) {
		t.Error("stores disagree on the tip")
	}
}

func TestMissFetch(t *testing.T) {
	d := startDaemon(t)
	url, _ := d.newRemote(t, "pastes.git", true)
	s1, s2 := open(t, url), open(t, url)

	p := &paste.Paste{ID: "fromtheother", Contents: []byte("pushed by s2")}
	mustCreate(t, s2, p)

	// Within the fetch interval a miss does not fetch.
	s1.fetchInterval = time.Hour
	if _, err := s1.Get(context.Background(), p.ID); !errors.Is(err, paste.ErrNotFound) {
		t.Fatalf("Get before the interval: %v, want ErrNotFound", err)
	}
	s1.fetchInterval = 0
	samePaste(t, mustGet(t, s1, p.ID), p)

	// s1 now builds on s2's commit: no replay needed.
	mustCreate(t, s1, &paste.Paste{ID: "froms1", Contents: []byte("1")})
	if _, err := s1.Get(context.Background(), "stillmissing"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("true miss: %v", err)
	}
}

func TestAlternatingWriters(t *testing.T) {
	d := startDaemon(t)
	url, dir := d.newRemote(t, "pastes.git", true)
	s1, s2 := open(t, url), open(t, url)
	s1.fetchInterval, s2.fetchInterval = 0, 0
	var ids []string
	for i := range 6 {
		s := s1
		if i%2 == 1 {
			s = s2
		}
		id := fmt.Sprintf("alt%02d", i)
		ids = append(ids, id)
		// Each writer's remote-tracking tip is stale: every push after the
		// first is refused, fetched and committed again.
		mustCreate(t, s, &paste.Paste{ID: id, Contents: []byte(id)})
	}
	files := git(t, dir, "ls-tree", "-r", "--name-only", "master")
	for _, id := range ids {
		if !strings.Contains(files, shardPath(id)+"\n") {
			t.Errorf("%s missing from the remote:\n%s", id, files)
		}
	}
	if n := strings.Count(git(t, dir, "log", "--format=%H", "master"), "\n"); n != 7 {
		t.Errorf("%d commits on the remote, want 7 (linear)", n)
	}
	if n := strings.Count(git(t, dir, "log", "--merges", "--format=%H", "master"), "\n"); n != 0 {
		t.Errorf("%d merges", n)
	}
	for _, id := range ids {
		mustGet(t, s1, id)
		mustGet(t, s2, id)
	}
}

// TestRemoteDown: without a repository on disk, a paste that cannot be
// pushed is refused and nothing of it stays; Open fails.
func TestRemoteDown(t *testing.T) {
	d := startDaemon(t)
	url, _ := d.newRemote(t, "pastes.git", true)
	s, err := openDir(t, url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreate(t, s, &paste.Paste{ID: "before", Contents: []byte("acknowledged")})
	before := tipOf(t, s)

	d.kill()
	err = s.Create(context.Background(), &paste.Paste{ID: "during", Contents: []byte("refused")})
	if !errors.Is(err, paste.ErrUnavailable) || !strings.Contains(err.Error(), url) {
		t.Fatalf("Create with the remote down: %v, want ErrUnavailable naming %s", err, url)
	}
	t.Log(err)
	if got := tipOf(t, s); got != before {
		t.Errorf("local branch moved to %s, want %s", got, before)
	}
	mustGet(t, s, "before")
	s.fetchInterval = 0
	if _, err := s.Get(context.Background(), "during"); !errors.Is(err, paste.ErrUnavailable) {
		t.Errorf("miss with the remote down: %v, want ErrUnavailable", err)
	}
	if st := s.Status(); st.Reachable || st.LastError == "" || st.Remote != url {
		t.Errorf("status with the remote down: %+v", st)
	}

	// Opening while the remote is down fails clearly.
	_, err = openDir(t, url, "")
	if !errors.Is(err, paste.ErrUnavailable) || !strings.Contains(err.Error(), url) {
		t.Errorf("Open with the remote down: %v", err)
	}
	t.Log(err)
}

// TestQueue: with a repository on disk, pastes made while the remote is
// down are acknowledged once committed and fsynced, queued, and pushed
// when the remote comes back: by the retry loop while running, and by Open
// after a restart.
func TestQueue(t *testing.T) {
	d := startDaemon(t)
	url, dir := d.newRemote(t, "pastes.git", true)
	local := t.TempDir()
	s, err := openDir(t, url, local)
	if err != nil {
		t.Fatal(err)
	}
	s.retryMin, s.retryMax = 50*time.Millisecond, 200*time.Millisecond
	mustCreate(t, s, &paste.Paste{ID: "before", Contents: []byte("pushed")})

	d.kill()
	mustCreate(t, s, &paste.Paste{ID: "queued1", Contents: []byte("1")})
	mustCreate(t, s, &paste.Paste{ID: "queued2", Contents: []byte("2")})
	if st := s.Status(); st.Reachable || st.Queued != 2 || !st.Unpushed {
		t.Errorf("status with the remote down: %+v", st)
	}
	if got := strings.TrimSpace(git(t, local, "rev-parse", "master")); got != tipOf(t, s).String() {
		t.Errorf("on disk, master is %s, want the tip %s", got, tipOf(t, s))
	}
	mustGet(t, s, "queued1")

	// The remote comes back: the loop pushes the queue.
	d.start(t)
	waitFor(t, 10*time.Second, func() bool { return s.Status().Reachable })
	for _, id := range []string{"before", "queued1", "queued2"} {
		git(t, dir, "show", "master:"+shardPath(id))
	}
	if st := s.Status(); st.Queued != 0 || st.Unpushed {
		t.Errorf("status after the push: %+v", st)
	}

	// Down again; a restart while down opens on the local repository;
	// another writer pushes meanwhile; the next Open with the remote up
	// replays and pushes.
	d.kill()
	mustCreate(t, s, &paste.Paste{ID: "queued3", Contents: []byte("3")})
	s.Close()
	s, err = openDir(t, url, local)
	if err != nil {
		t.Fatalf("Open with the remote down and a repository on disk: %v", err)
	}
	mustGet(t, s, "queued3")
	mustCreate(t, s, &paste.Paste{ID: "queued4", Contents: []byte("4")})
	s.Close()
	d.start(t)
	other := open(t, url)
	mustCreate(t, other, &paste.Paste{ID: "other", Contents: []byte("o")})
	s, err = openDir(t, url, local)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"before", "queued1", "queued2", "queued3", "queued4", "other"} {
		git(t, dir, "show", "master:"+shardPath(id))
	}
	if tipOf(t, s).String() != strings.TrimSpace(git(t, dir, "rev-parse", "master")) {
		t.Error("local and remote differ after Open")
	}
	fsck(t, dir)
}

// TestGrouping: concurrent pastes share commits and pushes, and each is
// acknowledged only once on the remote.
func TestGrouping(t *testing.T) {
	d := startDaemon(t)
	url, dir := d.newRemote(t, "pastes.git", true)
	s := open(t, url)
	const n = 200
	errs := make(chan error, n)
	for i := range n {
		go func() {
			id := fmt.Sprintf("grp%04d", i)
			err := s.Create(context.Background(), &paste.Paste{ID: id, Contents: []byte(id)})
			if err == nil {
				// Acknowledged: it must be on the remote now.
				cmd := exec.Command("git", "--git-dir="+dir, "cat-file", "-e", "master:"+shardPath(id))
				if out, cerr := cmd.CombinedOutput(); cerr != nil {
					err = fmt.Errorf("%s acknowledged but not on the remote: %v %s", id, cerr, out)
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	commits := strings.Count(git(t, dir, "log", "--format=%H", "master"), "\n") - 1
	files := strings.Count(git(t, dir, "ls-tree", "-r", "--name-only", "master"), "\n")
	t.Logf("%d pastes in %d commits", files, commits)
	if files != n || commits >= n || commits < 1 {
		t.Errorf("%d files in %d commits, want %d in fewer", files, commits, n)
	}
	fsck(t, dir)
}

// TestGroupExists: a taken id fails alone; the rest of its group is stored.
func TestGroupExists(t *testing.T) {
	s := openMemory(t)
	mustCreate(t, s, &paste.Paste{ID: "taken", Contents: []byte("first")})
	group := []*request{
		{p: &paste.Paste{ID: "taken", Contents: []byte("again")}, done: make(chan error, 1)},
		{p: &paste.Paste{ID: "fresh", Contents: []byte("new")}, done: make(chan error, 1)},
		{p: &paste.Paste{ID: "fresh", Contents: []byte("twice")}, done: make(chan error, 1)},
	}
	s.writeGroup(context.Background(), group)
	for i, want := range []error{paste.ErrExists, nil, paste.ErrExists} {
		if err := <-group[i].done; !errors.Is(err, want) && err != want {
			t.Errorf("request %d: %v, want %v", i, err, want)
		}
	}
	if p := mustGet(t, s, "fresh"); string(p.Contents) != "new" {
		t.Errorf("fresh: %q", p.Contents)
	}
}

func waitFor(t *testing.T, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not so after %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEmptyRemote(t *testing.T) {
	d := startDaemon(t)
	url, dir := d.newRemote(t, "empty.git", false)
	s1 := open(t, url)
	mustCreate(t, s1, &paste.Paste{ID: "firstever", Contents: []byte("root")})
	if got := git(t, dir, "show", "master:f/i/firstever"); !strings.Contains(got, "root") {
		t.Errorf("remote: %q", got)
	}
	if n := strings.Count(git(t, dir, "log", "--format=%H", "master"), "\n"); n != 1 {
		t.Errorf("%d commits, want 1 (the root)", n)
	}
	s2 := open(t, url)
	mustGet(t, s2, "firstever")
}

func TestRemoteNotServed(t *testing.T) {
	d := startDaemon(t)
	url := "git://" + d.addr + "/nosuch.git"
	_, err := openDir(t, url, "")
	if !errors.Is(err, paste.ErrUnavailable) || !strings.Contains(err.Error(), url) {
		t.Errorf("Open on a missing repository: %v", err)
	}
	t.Log(err)
}

// TestOpenReplays: commits made while another writer pushed (never
// acknowledged, as their push failed) are replayed onto the remote's tip and
// pushed by the next Open.
func TestOpenReplays(t *testing.T) {
	d := startDaemon(t)
	url, dir := d.newRemote(t, "pastes.git", true)
	local := t.TempDir()
	s1, err := openDir(t, url, local)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s1, &paste.Paste{ID: "pushed", Contents: []byte("0")})

	// Two local commits that never reached the remote, one of them with an
	// id that the other writer takes meanwhile.
	s1.mu.Lock()
	for _, p := range []*paste.Paste{{ID: "unpushed1", Contents: []byte("1")}, {ID: "clash", Contents: []byte("mine")}} {
		tip, err := s1.repo.commitPastes(tipHash(t, s1), []*paste.Paste{p}, time.Now())
		if err == nil {
			err = s1.repo.setRef(s1.branch, tip)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	s1.mu.Unlock()
	s1.Close()

	s2 := open(t, url)
	mustCreate(t, s2, &paste.Paste{ID: "other", Contents: []byte("2")})
	mustCreate(t, s2, &paste.Paste{ID: "clash", Contents: []byte("theirs")})

	s1, err = openDir(t, url, local)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	for id, want := range map[string]string{"pushed": "0", "unpushed1": "1", "other": "2", "clash": "theirs"} {
		if p := mustGet(t, s1, id); string(p.Contents) != want {
			t.Errorf("%s: %q, want %q", id, p.Contents, want)
		}
		if got := git(t, dir, "show", "master:"+shardPath(id)); !strings.Contains(got, want) {
			t.Errorf("remote %s: %q", id, got)
		}
	}
	if tipOf(t, s1).String() != strings.TrimSpace(git(t, dir, "rev-parse", "master")) {
		t.Error("local and remote differ after Open")
	}
	fsck(t, dir)
}

func TestConcurrentRemoteCreates(t *testing.T) {
	d := startDaemon(t)
	url, dir := d.newRemote(t, "pastes.git", true)
	s1, s2 := open(t, url), open(t, url)
	const n = 5
	errs := make(chan error, 2*n)
	for i := range n {
		for j, s := range []*Store{s1, s2} {
			go func() {
				errs <- s.Create(context.Background(), &paste.Paste{ID: fmt.Sprintf("c%d%02d", j, i), Contents: []byte("x")})
			}()
		}
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	files := git(t, dir, "ls-tree", "-r", "--name-only", "master")
	if got := strings.Count(files, "\n"); got != 2*n {
		t.Errorf("%d files on the remote, want %d:\n%s", got, 2*n, files)
	}
}

// testLogger logs to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestContendedStaysReachable: losing the race to other writers again and
// again is not the remote being down: /healthz keeps "reachable", a retry
// is due soon, and it pushes the queue.
func TestContendedStaysReachable(t *testing.T) {
	d := startDaemon(t)
	url, dir := d.newRemote(t, "pastes.git", true)
	s, err := openDir(t, url, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreate(t, s, &paste.Paste{ID: "first", Contents: []byte("1")})

	s.failed(fmt.Errorf("%w: lost %d times", errRejected, maxAttempts))
	st := s.Status()
	if !st.Reachable || st.NextTry.IsZero() || time.Until(st.NextTry) > 2*contendedPause {
		t.Errorf("status after contention: %+v", st)
	}
	s.kick <- struct{}{} // the loop rearms its retry timer
	waitFor(t, 10*time.Second, func() bool { return s.Status().NextTry.IsZero() })
	if st := s.Status(); !st.Reachable || st.LastError != "" {
		t.Errorf("status after the retry: %+v", st)
	}
	git(t, dir, "show", "master:"+shardPath("first"))
}
