package gitsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
)

// TestRemoteContract: a store with a remote keeps paste.Store's contract.
func TestRemoteContract(t *testing.T) {
	d := gittest.StartDaemon(t)
	n := 0
	pastetest.TestStore(t, func(t *testing.T) paste.Store {
		n++
		url, _ := d.NewRepo(t, "contract"+string(rune('a'+n))+".git", true)
		return open(t, url)
	})
}

// TestBurnOnceTwoInstances: two stores sharing a remote burn the same
// paste at once: exactly one gets it, and the other, and every later read
// on either, finds it gone.
func TestBurnOnceTwoInstances(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, _ := d.NewRepo(t, "pastes.git", true)
	s1, s2 := open(t, url, eager), open(t, url, eager)
	for round := range 5 {
		id := "burn" + string(rune('a'+round))
		mustCreate(t, s1, &paste.Paste{ID: id, Contents: []byte("once"), Burn: true})
		mustGet(t, s2, id) // s2 fetches it
		var wg sync.WaitGroup
		results := make([]error, 4)
		for i := range results {
			s := []*Store{s1, s2}[i%2]
			wg.Go(func() {
				p, err := s.Burn(context.Background(), id)
				if err == nil && string(p.Contents) != "once" {
					t.Errorf("burn returned %q", p.Contents)
				}
				results[i] = err
			})
		}
		wg.Wait()
		got := 0
		for _, err := range results {
			switch {
			case err == nil:
				got++
			case !errors.Is(err, paste.ErrGone):
				t.Errorf("burn: %v", err)
			}
		}
		if got != 1 {
			t.Errorf("round %d: %d readers got the paste, want 1 (%v)", round, got, results)
		}
		for _, s := range []*Store{s1, s2} {
			if err := s.reconcileNow(t); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(context.Background(), id); !errors.Is(err, paste.ErrGone) {
				t.Errorf("get after the burn: %v, want ErrGone", err)
			}
		}
	}
}

// reconcileNow fetches, as the periodic sync does.
func (s *Store) reconcileNow(t *testing.T) error {
	t.Helper()
	if err := s.lockWriter(context.Background()); err != nil {
		return err
	}
	err := s.reconcile(context.Background())
	s.unlockWriter()
	s.flushRemoved()
	return err
}

// TestRemovalOnRemoteSticks: a paste an operator removes on the remote,
// with a commit (git rm) or by cutting it out of the history (a
// force-push), is gone on every instance, even one with commits of its own
// to replay; only what never reached the remote is replayed.
func TestRemovalOnRemoteSticks(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	var mu sync.Mutex
	var forgotten []string
	s1 := open(t, url, eager, func(c *Config) {
		c.OnRemove = func(ids []string) {
			mu.Lock()
			forgotten = append(forgotten, ids...)
			mu.Unlock()
		}
	})
	mustCreate(t, s1, &paste.Paste{ID: "keep", Contents: []byte("k")})
	mustCreate(t, s1, &paste.Paste{ID: "rmme", Contents: []byte("r")})
	mustCreate(t, s1, &paste.Paste{ID: "cutme", Contents: []byte("c")})

	// git rm on the remote.
	work := t.TempDir()
	gittest.Run(t, "", "clone", "-q", dir, work)
	gittest.Run(t, "", "-C", work, "rm", "-q", path("rmme"))
	gittest.Run(t, "", "-C", work, "-c", "user.name=op", "-c", "user.email=op@x", "commit", "-qm", "remove rmme")
	gittest.Run(t, "", "-C", work, "push", "-q", "origin", "HEAD:master")
	if err := s1.reconcileNow(t); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Get(context.Background(), "rmme"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("get after git rm on the remote: %v, want ErrGone", err)
	}
	mu.Lock()
	if strings.Join(forgotten, ",") != "rmme" {
		t.Errorf("OnRemove got %v, want [rmme]", forgotten)
	}
	mu.Unlock()

	// A force-push that cuts out the commit of "cutme" (the last one
	// before the git rm), while s1 has an unpushed paste to replay.
	d.Kill()
	mustCreate(t, s1, &paste.Paste{ID: "queued", Contents: []byte("q")}) // queued
	d.Start(t)
	gittest.Run(t, "", "-C", work, "reset", "-q", "--hard", "HEAD~2")
	gittest.Run(t, "", "-C", work, "rm", "-q", path("rmme"))
	gittest.Run(t, "", "-C", work, "-c", "user.name=op", "-c", "user.email=op@x", "commit", "-qm", "remove rmme")
	gittest.Run(t, "", "-C", work, "push", "-qf", "origin", "HEAD:master")
	if err := s1.reconcileNow(t); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"keep": "k", "queued": "q"} {
		if p := mustGet(t, s1, id); string(p.Contents) != want {
			t.Errorf("%s: %q", id, p.Contents)
		}
		if got := git(t, dir, "show", "master:"+path(id)); !strings.Contains(got, want) {
			t.Errorf("remote %s: %q", id, got)
		}
	}
	for _, id := range []string{"rmme", "cutme"} {
		if _, err := s1.Get(context.Background(), id); !errors.Is(err, paste.ErrGone) {
			t.Errorf("get %s: %v, want ErrGone", id, err)
		}
		if files := git(t, dir, "ls-tree", "-r", "--name-only", "master"); strings.Contains(files, id) {
			t.Errorf("the remote holds %s again:\n%s", id, files)
		}
	}
	gittest.Fsck(t, dir)
}

// TestRemoveSeenByOther: a removal on one instance is gone on another
// once it fetches.
func TestRemoveSeenByOther(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	s1, s2 := open(t, url), open(t, url, eager)
	mustCreate(t, s1, &paste.Paste{ID: "gone1", Contents: []byte("x")})
	mustGet(t, s2, "gone1")
	if err := s1.Remove(context.Background(), "gone1", paste.Deleted); err != nil {
		t.Fatal(err)
	}
	if err := s2.reconcileNow(t); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get(context.Background(), "gone1"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("get on the other instance: %v, want ErrGone", err)
	}
	if got := git(t, dir, "log", "-1", "--format=%s", "master"); got != "Remove gone1 (deleted)\n" {
		t.Errorf("removal commit: %q", got)
	}
	if got := git(t, dir, "show", "master:"+path("gone1")); !strings.Contains(got, `"removed":"deleted"`) {
		t.Errorf("tombstone: %q", got)
	}
}

// TestExpirySweep: an expired paste is gone at once, and the sweeper
// replaces it by a tombstone on the remote; the scan at Open finds the
// pastes that expire, and another instance sees the removal at its next
// periodic fetch. What comes before the expiry (a create, a clone and its
// scan, a read) must end before it: on a loaded machine it may not, and
// the test starts again with a paste that lives twice as long.
func TestExpirySweep(t *testing.T) {
	d := gittest.StartDaemon(t)
	for attempt, life := 0, 3*time.Second; ; attempt, life = attempt+1, 2*life {
		if expirySweep(t, d, fmt.Sprintf("pastes%d.git", attempt), life) {
			return
		}
		t.Logf("soon1 expired before the second instance had read it: again with a life of %s", 2*life)
	}
}

// expirySweep is TestExpirySweep with a paste that expires life after
// its creation; false when it expired before the checks that need it
// alive were done.
func expirySweep(t *testing.T, d *gittest.Daemon, name string, life time.Duration) bool {
	const longest = 24 * time.Second // then what did not happen in time is a failure
	url, dir := d.NewRepo(t, name, true)
	fast := func(c *Config) { c.SyncInterval = 200 * time.Millisecond }
	s1 := open(t, url, fast)
	defer s1.Close()
	soon := &paste.Paste{ID: "soon1", Contents: []byte("x"), Expires: time.Now().Add(life)}
	mustCreate(t, s1, soon)
	mustCreate(t, s1, &paste.Paste{ID: "later", Contents: []byte("y"), Expires: time.Now().Add(time.Hour)})
	mustCreate(t, s1, &paste.Paste{ID: "forever", Contents: []byte("z")})
	s2 := open(t, url, fast) // its scan finds soon1 and later
	defer s2.Close()
	// Past the expiry, the sweep may have taken soon1 from the index,
	// and a read finds it gone: too late, unless soon1 lived longest.
	tooLate := func() bool {
		if !time.Now().After(soon.Expires) {
			return false
		}
		if life >= longest {
			t.Fatalf("soon1, which lived %s, expired before the second instance had read it", life)
		}
		return true
	}
	for s2.expiry.len() != 2 {
		if tooLate() {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s2.Get(context.Background(), "soon1"); err != nil {
		if errors.Is(err, paste.ErrGone) && tooLate() {
			return false
		}
		t.Fatalf("Get soon1 before its expiry: %v", err)
	}
	waitFor(t, 30*time.Second, func() bool {
		return strings.Contains(git(t, dir, "show", "master:"+path("soon1")), `"removed":"expired"`)
	})
	// Gone on s2 by its expiry at once; the removal itself comes with its
	// periodic fetch.
	if _, err := s2.Get(context.Background(), "soon1"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("Get soon1 after its expiry: %v, want ErrGone", err)
	}
	waitFor(t, 30*time.Second, func() bool {
		s2.mu.Lock()
		defer s2.mu.Unlock()
		tip, _ := s2.repo.Ref(s2.branch)
		_, data, _ := s2.repo.Locate(tip, "soon1")
		return strings.Contains(string(data), `"removed":"expired"`)
	})
	for _, s := range []*Store{s1, s2} {
		mustGet(t, s, "later")
		mustGet(t, s, "forever")
	}
	if n := strings.Count(git(t, dir, "log", "--format=%s", "master"), "Remove soon1"); n != 1 {
		t.Errorf("%d removal commits of soon1, want 1", n)
	}
	return true
}

// TestPurge: a purge rewrites the remote's history without the removed
// paste's text; a fresh clone has no blob of it and every live paste; the
// other instance adopts the new history and carries over its queued
// paste; nothing removed comes back.
func TestPurge(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	s1, s2 := open(t, url, eager), open(t, url, eager, quickRetry)
	secret := &paste.Paste{ID: "secret", Contents: []byte("a secret pasted by mistake")}
	live := []*paste.Paste{{ID: "keep1", Contents: []byte("one")}, {ID: "keep2", Contents: []byte("two")}}
	mustCreate(t, s1, live[0])
	mustCreate(t, s1, secret)
	mustCreate(t, s1, live[1])
	mustGet(t, s2, "secret")
	if err := s1.Remove(context.Background(), "secret", paste.Deleted); err != nil {
		t.Fatal(err)
	}
	d.Kill()
	queued := &paste.Paste{ID: "queued", Contents: []byte("made while the remote was away")}
	mustCreate(t, s2, queued)
	d.Start(t)

	st, err := s1.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Rewritten == 0 || st.Dropped != 1 {
		t.Errorf("purge: %+v", st)
	}
	if err := s2.reconcileNow(t); err != nil {
		t.Fatal(err)
	}
	if err := s1.reconcileNow(t); err != nil {
		t.Fatal(err)
	}
	if tipOf(t, s1) != tipOf(t, s2) {
		t.Error("the instances disagree after the purge")
	}
	for _, s := range []*Store{s1, s2} {
		if _, err := s.Get(context.Background(), "secret"); !errors.Is(err, paste.ErrGone) {
			t.Errorf("get secret: %v, want ErrGone", err)
		}
	}

	clone := t.TempDir()
	gittest.Run(t, "", "clone", "-q", "--bare", "--no-local", dir, clone)
	objs := git(t, clone, "rev-list", "--objects", "--all")
	secretBlob, _ := paste.Marshal(secret)
	if h := plumbing.ComputeHash(plumbing.BlobObject, secretBlob).String(); strings.Contains(objs, h) {
		t.Errorf("a fresh clone holds the removed paste's blob %s", h)
	}
	if refs := git(t, dir, "for-each-ref"); strings.Contains(refs, "pasteur") {
		t.Errorf("the purge's ref is left on the remote:\n%s", refs)
	}
	for _, p := range append(live, queued) {
		want, _ := paste.Marshal(p)
		if got := git(t, clone, "show", "master:"+path(p.ID)); got != string(want) {
			t.Errorf("clone %s: %q, want %q", p.ID, got, want)
		}
		mustGet(t, s1, p.ID)
	}
	gittest.Fsck(t, dir)
}

// TestPurgeWhilePasting: pastes made while a purge runs are all kept, on
// the purged history.
func TestPurgeWhilePasting(t *testing.T) {
	s, err := Open(context.Background(), Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreate(t, s, &paste.Paste{ID: "secret", Contents: []byte("removed text")})
	for i := range 300 {
		mustCreate(t, s, &paste.Paste{ID: fmt.Sprintf("before%04d", i), Contents: []byte("x")})
	}
	if err := s.Remove(context.Background(), "secret", paste.Deleted); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var during []string
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			id := fmt.Sprintf("during%04d", i)
			if err := s.Create(context.Background(), &paste.Paste{ID: id, Contents: []byte("y")}); err != nil {
				t.Error(err)
				return
			}
			during = append(during, id)
			if i > 2000 {
				return
			}
		}
	}()
	st, err := s.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	default:
		done <- struct{}{}
	}
	<-done
	t.Logf("purge %+v; %d pastes made meanwhile", st, len(during))
	for _, id := range during {
		mustGet(t, s, id)
	}
	if _, err := s.Get(context.Background(), "secret"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("get secret: %v", err)
	}
	// On the branch, not only in the write-ahead log, which serves the
	// pastes it holds until their commit.
	if err := s.flushLog(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tip, _ := s.repo.Ref(s.branch)
	for _, id := range during {
		if _, err := s.repo.Find(tip, id); err != nil {
			t.Errorf("%s is not on the branch after the purge: %v", id, err)
		}
	}
	secret, _ := paste.Marshal(&paste.Paste{ID: "secret", Contents: []byte("removed text")})
	line, err := s.repo.Line(tip, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	h := plumbing.ComputeHash(plumbing.BlobObject, secret)
	for _, c := range line {
		if _, data, err := s.repo.Locate(c, "secret"); err == nil && plumbing.ComputeHash(plumbing.BlobObject, data) == h {
			t.Fatalf("commit %s still holds the removed text", c)
		}
	}
}

// TestPurgeAgain: a second purge reads the history only from the first
// commit that holds a paste removed since the first one, and removes from
// it a paste made before the first purge, one made while it ran (carried
// over onto the purged history) and one made after it; every other paste
// stays. With a remote, so that each paste is a commit of its own.
func TestPurgeAgain(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	s := open(t, url)
	text := func(id string) []byte { return []byte("text of " + id) }
	var ids []string
	create := func(id string) {
		t.Helper()
		mustCreate(t, s, &paste.Paste{ID: id, Contents: text(id)})
		ids = append(ids, id)
	}
	create("secret")
	for i := range 40 {
		create(fmt.Sprintf("before%04d", i))
	}
	if err := s.Remove(context.Background(), "secret", paste.Deleted); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			id := fmt.Sprintf("during%04d", i)
			if err := s.Create(context.Background(), &paste.Paste{ID: id, Contents: text(id)}); err != nil {
				t.Error(err)
				return
			}
			ids = append(ids, id)
		}
	}()
	first, err := s.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	<-done
	create("after")
	gone := []string{"secret", "before0030", "during0019", "after"}
	for _, id := range gone[1:] {
		if err := s.Remove(context.Background(), id, paste.Deleted); err != nil {
			t.Fatal(err)
		}
	}
	second, err := s.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first purge %+v; second %+v", first.PurgeStats, second.PurgeStats)
	if second.Kept < 25 || second.Kept >= second.Commits {
		t.Errorf("the second purge kept %d commits of %d, want those before before0030's", second.Kept, second.Commits)
	}

	s.mu.Lock()
	tip, _ := s.repo.Ref(s.branch)
	line, err := s.repo.Line(tip, plumbing.ZeroHash)
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range gone {
		data, _ := paste.Marshal(&paste.Paste{ID: id, Contents: text(id)})
		h := plumbing.ComputeHash(plumbing.BlobObject, data)
		for _, c := range line {
			s.mu.Lock()
			_, got, err := s.repo.Locate(c, id)
			s.mu.Unlock()
			if err == nil && plumbing.ComputeHash(plumbing.BlobObject, got) == h {
				t.Fatalf("commit %s still holds %s", c, id)
			}
		}
		if _, err := s.Get(context.Background(), id); !errors.Is(err, paste.ErrGone) {
			t.Errorf("get %s: %v, want ErrGone", id, err)
		}
	}
	kept := 0
	for _, id := range ids {
		if !slices.Contains(gone, id) {
			mustGet(t, s, id)
			kept++
		}
	}
	if kept != len(ids)-len(gone) {
		t.Errorf("%d pastes kept, want %d", kept, len(ids)-len(gone))
	}
	gittest.Fsck(t, dir)
}

// TestPurgeCarriesOverMany: more pastes are made while a purge sends its
// history than the writer lock is left to carry over; those carried
// before it reach the remote with the branch's push (they were once
// left out of it: "missing necessary objects"), and every paste is on
// the remote after, the removed one's text nowhere.
func TestPurgeCarriesOverMany(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	var s *Store
	var during []*paste.Paste
	s = open(t, url, func(c *Config) {
		c.purgeSent = func() {
			for i := range 2 * carryLeft {
				p := &paste.Paste{ID: fmt.Sprintf("during%02d", i), Contents: []byte("made while the purge ran")}
				if err := s.Create(context.Background(), p); err != nil {
					t.Error(err)
					return
				}
				during = append(during, p)
			}
		}
	})
	secret := &paste.Paste{ID: "secret", Contents: []byte("removed text")}
	mustCreate(t, s, secret)
	live := []*paste.Paste{{ID: "keep", Contents: []byte("kept")}}
	mustCreate(t, s, live[0])
	if err := s.Remove(context.Background(), "secret", paste.Deleted); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(during) != 2*carryLeft {
		t.Fatalf("%d pastes made during the purge", len(during))
	}
	clone := t.TempDir()
	gittest.Run(t, "", "clone", "-q", "--bare", "--no-local", dir, clone)
	secretBlob, _ := paste.Marshal(secret)
	if h := plumbing.ComputeHash(plumbing.BlobObject, secretBlob).String(); strings.Contains(git(t, clone, "rev-list", "--objects", "--all"), h) {
		t.Errorf("a fresh clone holds the removed paste's blob %s", h)
	}
	files := git(t, clone, "ls-tree", "-r", "--name-only", "master")
	for _, p := range append(live, during...) {
		if !strings.Contains(files, p.ID) {
			t.Errorf("%s is not on the remote", p.ID)
		}
	}
	gittest.Fsck(t, dir)
}

// TestPurgeKeepsRemoteRemoval: a paste an operator removes on the remote
// (git rm) while a purge runs stays removed: the purge carries the
// remote's commits over onto the purged history, and a replay that
// carried what commits add but not what they delete pushed the paste back.
func TestPurgeKeepsRemoteRemoval(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	work := t.TempDir()
	var once sync.Once
	s := open(t, url, func(c *Config) {
		c.purgeSent = func() {
			once.Do(func() {
				gittest.Run(t, "", "clone", "-q", dir, work)
				gittest.Run(t, "", "-C", work, "rm", "-q", path("rmme"))
				gittest.Run(t, "", "-C", work, "-c", "user.name=op", "-c", "user.email=op@x", "commit", "-qm", "remove rmme")
				gittest.Run(t, "", "-C", work, "push", "-q", "origin", "HEAD:master")
			})
		}
	})
	for _, id := range []string{"keep", "rmme", "secret"} {
		mustCreate(t, s, &paste.Paste{ID: id, Contents: []byte("text of " + id)})
	}
	if err := s.Remove(context.Background(), "secret", paste.Deleted); err != nil {
		t.Fatal(err)
	}
	_, err := s.Purge(context.Background())
	if err != nil && !errors.Is(err, ErrPurgeLater) {
		t.Fatal(err)
	}
	if files := git(t, dir, "ls-tree", "-r", "--name-only", "master"); strings.Contains(files, "rmme") {
		t.Errorf("the purge (%v) pushed back a paste the operator removed:\n%s", err, files)
	}
	if _, err := s.Get(context.Background(), "rmme"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("get rmme after the purge: %v, want ErrGone", err)
	}
	// The next purge starts after the removal, and leaves it be.
	if _, err := s.Purge(context.Background()); err != nil {
		t.Fatalf("the purge after: %v", err)
	}
	files := git(t, dir, "ls-tree", "-r", "--name-only", "master")
	if strings.Contains(files, "rmme") || !strings.Contains(files, "keep") {
		t.Errorf("after the next purge the remote holds:\n%s", files)
	}
	mustGet(t, s, "keep")
	gittest.Fsck(t, dir)
}
