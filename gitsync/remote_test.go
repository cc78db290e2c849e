package gitsync

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/internal/testlog"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
	"golang.org/x/crypto/ssh"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return gittest.Git(t, dir, args...)
}

// open opens a store on disk that reconciles with url, with cfg's options.
func open(t *testing.T, url string, opts ...func(*Config)) *Store {
	t.Helper()
	s, err := openDir(t, url, t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eager lets every read miss fetch.
func eager(c *Config) { c.FetchInterval = -1 }

// quickRetry retries the queue within a fraction of a second.
func quickRetry(c *Config) { c.RetryMin, c.RetryMax = 50*time.Millisecond, 200*time.Millisecond }

func openDir(t *testing.T, url, dir string, opts ...func(*Config)) (*Store, error) {
	host := &netx.Host{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := Config{Dir: dir, Remote: url, Dial: host.Dial, Logger: testlog.New(t)}
	cfg.completion.delay = -1 // a partial repository completes at once
	for _, o := range opts {
		o(&cfg)
	}
	s, err := Open(ctx, cfg)
	if err == nil && cfg.completion.fill == 0 && cfg.completion.maxSteps == 0 {
		// Tests of anything but the completion start from a complete
		// repository, as they did before partial first fetches: the
		// purge and the expiry scan wait for it.
		deadline := time.Now().Add(20 * time.Second)
		for s.Completion().Partial && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return s, err
}

func TestRemoteCreateGet(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
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
	gittest.Fsck(t, dir)

	// A second store, on an empty directory, reads it after Open's fetch.
	s2 := open(t, url)
	samePaste(t, mustGet(t, s2, p.ID), p)
	samePaste(t, mustGet(t, s2, "x"), &paste.Paste{ID: "x", Contents: []byte("short")})
	if tipOf(t, s1) != tipOf(t, s2) {
		t.Error("stores disagree on the tip")
	}
}

func TestMissFetch(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, _ := d.NewRepo(t, "pastes.git", true)
	lazy := open(t, url, func(c *Config) { c.FetchInterval = time.Hour })
	s1, s2 := open(t, url, eager), open(t, url)

	p := &paste.Paste{ID: "fromtheother", Contents: []byte("pushed by s2")}
	mustCreate(t, s2, p)

	// Within a long fetch interval a miss does not fetch.
	if _, err := lazy.Get(context.Background(), p.ID); !errors.Is(err, paste.ErrNotFound) {
		t.Fatalf("Get before the interval: %v, want ErrNotFound", err)
	}
	samePaste(t, mustGet(t, s1, p.ID), p)

	// Within the default interval, a miss waits for the next fetch: a
	// paste pushed just after a fetch is found at once.
	s3 := open(t, url)
	if _, err := s3.Get(context.Background(), "notyet"); !errors.Is(err, paste.ErrNotFound) {
		t.Fatalf("miss: %v", err)
	}
	q := &paste.Paste{ID: "justafter", Contents: []byte("pushed after s3's fetch")}
	mustCreate(t, s2, q)
	samePaste(t, mustGet(t, s3, q.ID), q)

	// s1 now builds on s2's commit: no replay needed.
	mustCreate(t, s1, &paste.Paste{ID: "froms1", Contents: []byte("1")})
	if _, err := s1.Get(context.Background(), "stillmissing"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("true miss: %v", err)
	}
}

func TestAlternatingWriters(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	s1, s2 := open(t, url, eager), open(t, url, eager)
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
		if p, _ := pathIn(dir, id); p == "" {
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
	d := gittest.StartDaemon(t)
	url, _ := d.NewRepo(t, "pastes.git", true)
	s, err := openDir(t, url, "", eager)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreate(t, s, &paste.Paste{ID: "before", Contents: []byte("acknowledged")})
	before := tipOf(t, s)

	d.Kill()
	err = s.Create(context.Background(), &paste.Paste{ID: "during", Contents: []byte("refused")})
	if !errors.Is(err, paste.ErrUnavailable) || !strings.Contains(err.Error(), url) {
		t.Fatalf("Create with the remote down: %v, want ErrUnavailable naming %s", err, url)
	}
	t.Log(err)
	if got := tipOf(t, s); got != before {
		t.Errorf("local branch moved to %s, want %s", got, before)
	}
	mustGet(t, s, "before")
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
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	local := t.TempDir()
	s, err := openDir(t, url, local, quickRetry)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, &paste.Paste{ID: "before", Contents: []byte("pushed")})

	d.Kill()
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
	d.Start(t)
	waitFor(t, 10*time.Second, func() bool { return s.Status().Reachable })
	for _, id := range []string{"before", "queued1", "queued2"} {
		git(t, dir, "show", "master:"+pathOf(t, dir, id))
	}
	if st := s.Status(); st.Queued != 0 || st.Unpushed {
		t.Errorf("status after the push: %+v", st)
	}

	// Down again; a restart while down opens on the local repository;
	// another writer pushes meanwhile; the next Open with the remote up
	// replays and pushes.
	d.Kill()
	mustCreate(t, s, &paste.Paste{ID: "queued3", Contents: []byte("3")})
	s.Close()
	s, err = openDir(t, url, local)
	if err != nil {
		t.Fatalf("Open with the remote down and a repository on disk: %v", err)
	}
	mustGet(t, s, "queued3")
	mustCreate(t, s, &paste.Paste{ID: "queued4", Contents: []byte("4")})
	s.Close()
	d.Start(t)
	other := open(t, url)
	mustCreate(t, other, &paste.Paste{ID: "other", Contents: []byte("o")})
	s, err = openDir(t, url, local)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"before", "queued1", "queued2", "queued3", "queued4", "other"} {
		git(t, dir, "show", "master:"+pathOf(t, dir, id))
	}
	if tipOf(t, s).String() != strings.TrimSpace(git(t, dir, "rev-parse", "master")) {
		t.Error("local and remote differ after Open")
	}
	gittest.Fsck(t, dir)
}

// TestGrouping: concurrent pastes share commits and pushes, and each is
// acknowledged only once on the remote.
func TestGrouping(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	s := open(t, url)
	const n = 200
	errs := make(chan error, n)
	for i := range n {
		go func() {
			id := fmt.Sprintf("grp%04d", i)
			err := s.Create(context.Background(), &paste.Paste{ID: id, Contents: []byte(id)})
			if err == nil {
				// Acknowledged: it must be on the remote now.
				if p, perr := pathIn(dir, id); p == "" {
					err = fmt.Errorf("%s acknowledged but not on the remote: %v", id, perr)
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
	gittest.Fsck(t, dir)
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
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "empty.git", false)
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
	d := gittest.StartDaemon(t)
	url := "git://" + d.Addr + "/nosuch.git"
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
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	local := t.TempDir()
	s1, err := openDir(t, url, local)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s1, &paste.Paste{ID: "pushed", Contents: []byte("0")})

	// Two local commits that never reached the remote, one of them with an
	// id that the other writer takes meanwhile.
	d.Kill()
	for _, p := range []*paste.Paste{{ID: "unpushed1", Contents: []byte("1")}, {ID: "clash", Contents: []byte("mine")}} {
		mustCreate(t, s1, p)
	}
	if st := s1.Status(); st.Queued != 2 {
		t.Errorf("status: %+v", st)
	}
	s1.Close()
	d.Start(t)

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
		if got := git(t, dir, "show", "master:"+pathOf(t, dir, id)); !strings.Contains(got, want) {
			t.Errorf("remote %s: %q", id, got)
		}
	}
	if tipOf(t, s1).String() != strings.TrimSpace(git(t, dir, "rev-parse", "master")) {
		t.Error("local and remote differ after Open")
	}
	gittest.Fsck(t, dir)
}

func TestConcurrentRemoteCreates(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
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

// path is where paste id is in a repository whose leaves have not split
// (at most 64 pastes share its first two characters): the tests with few
// pastes; pathIn reads where it is in any repository.
func path(id string) string {
	if len(id) < 2 {
		return "_/" + id
	}
	return id[:1] + "/" + id[1:2] + "/" + id
}

// pathIn is where paste id is on the master branch of the repository in
// dir ("" when it is not there): leaves split as they grow, so the path
// depends on the other pastes (docs/FORMAT.md).
func pathIn(dir, id string) (string, error) {
	out, err := exec.Command("git", "--git-dir="+dir, "ls-tree", "-r", "--name-only", "master").Output()
	if err != nil {
		return "", err
	}
	for _, p := range strings.Fields(string(out)) {
		if p == id || strings.HasSuffix(p, "/"+id) {
			return p, nil
		}
	}
	return "", nil
}

// path is pathIn's path, and fails t when there is none.
func pathOf(t *testing.T, dir, id string) string {
	t.Helper()
	p, err := pathIn(dir, id)
	if err != nil || p == "" {
		t.Fatalf("paste %s not on %s's master: %v", id, dir, err)
	}
	return p
}

// TestContendedStaysReachable: losing the race to other writers again and
// again is not the remote being down: /healthz keeps "reachable", and a
// push of the queue is due soon. Being down backs off, doubling up to the
// maximum.
func TestContendedStaysReachable(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := remoteState{retryMin: time.Second, retryMax: 3 * time.Second}
	r.failed(fmt.Errorf("%w: lost %d times", errRejected, maxAttempts), now)
	var st Status
	r.status(&st)
	if d, ok := r.retryIn(now); !st.Reachable || !ok || d > 2*contendedPause || st.NextTry.IsZero() {
		t.Errorf("after contention: %+v, retry in %s", st, d)
	}
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second} {
		r.failed(errors.New("connection refused"), now)
		if d, ok := r.retryIn(now); !ok || d != want || r.reachable() {
			t.Errorf("retry in %s (%v), want %s", d, ok, want)
		}
	}
	r.addQueued(2)
	r.pushed(now)
	st = Status{}
	r.status(&st)
	if _, ok := r.retryIn(now); ok || !st.Reachable || st.Queued != 0 || st.LastError != "" || !st.LastPush.Equal(now) {
		t.Errorf("after a push: %+v", st)
	}
}

// TestSSHAndHTTPS: a store pushes and fetches over ssh (an in-process
// server running git's own upload-pack and receive-pack) and https (git
// http-backend), with the credentials of Config.Auth; wrong ones are
// refused at Open, even with a repository on disk to serve from.
func TestSSHAndHTTPS(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "pastes.git")
	gittest.Bare(t, dir, true)
	key := gittest.NewKey(t)
	sshd := gittest.StartSSH(t, base, key)
	web, pool := gittest.StartHTTPS(t, base, "t0ken")
	sshURL := "ssh://git@" + sshd.Addr + "/pastes.git"
	pin := ssh.FingerprintSHA256(sshd.HostKey)
	tests := []struct {
		name      string
		url       string
		auth, bad Auth
		refused   string
	}{
		{"ssh", sshURL, Auth{SSHKey: key, SSHHostKeys: []string{pin}},
			Auth{SSHKey: key, SSHHostKeys: []string{"SHA256:AAAA"}}, "host key"},
		{"https", web + "/pastes.git", Auth{Token: "t0ken", RootCAs: pool},
			Auth{Token: "wrong", RootCAs: pool}, "authentication required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, tt.url, eager, func(c *Config) { c.Auth = tt.auth })
			id := "over" + tt.name
			mustCreate(t, s, &paste.Paste{ID: id, Contents: []byte(tt.name)})
			git(t, dir, "show", "master:"+pathOf(t, dir, id))
			if st := s.Status(); !st.Reachable || st.Unpushed {
				t.Errorf("status: %+v", st)
			}
			if tt.name == "https" {
				// What the ssh subtest pushed comes with a miss.
				mustGet(t, s, "overssh")
			}
			_, err := openDir(t, tt.url, t.TempDir(), func(c *Config) { c.Auth = tt.bad })
			if !errors.Is(err, paste.ErrUnavailable) || !strings.Contains(err.Error(), tt.refused) {
				t.Errorf("Open with wrong credentials: %v, want %q", err, tt.refused)
			}
		})
	}
}
