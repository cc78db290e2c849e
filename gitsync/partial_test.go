package gitsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// filled gives the remote at url n pastes, one commit each, made by a
// store of its own, and returns their ids.
func filled(t *testing.T, url string, n int) []string {
	t.Helper()
	s := open(t, url, func(c *Config) { c.MaxGroup = 1 })
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%c%02dzzzzzzzzz", 'a'+i%26, i)
		mustCreate(t, s, &paste.Paste{ID: id, Contents: []byte("paste " + id)})
		ids = append(ids, id)
	}
	s.Close()
	return ids
}

// steps sizes the completion of a partial repository; max < 0 holds it.
func steps(fill, history, max int) func(*Config) {
	return func(c *Config) {
		c.completion = completionSteps{fill: fill, history: history, maxSteps: max, fixed: true, delay: -1}
	}
}

// TestPartialStart: a first start against a remote that allows it fetches
// the tip alone, serves an older paste by fetching its trees and blob by
// hash, and takes a new paste, which the remote gets whole.
func TestPartialStart(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	ids := filled(t, url, 12)
	data := t.TempDir()
	s, err := openDir(t, url, data, steps(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Completion().Partial {
		t.Fatal("the first fetch was not partial")
	}
	shallow, err := os.ReadFile(filepath.Join(data, "shallow"))
	if err != nil || strings.TrimSpace(string(shallow)) != strings.TrimSpace(git(t, dir, "rev-parse", "master")) {
		t.Fatalf("shallow file %q (%v), want the remote's tip", shallow, err)
	}
	if got := gittest.Git(t, data, "rev-parse", "--is-shallow-repository"); got != "true\n" {
		t.Errorf("git reads the repository as shallow: %q", got)
	}
	if got := string(mustGet(t, s, ids[3]).Contents); got != "paste "+ids[3] {
		t.Errorf("lazily read %q", got)
	}
	if c := s.Counters(); c.LazyObjects == 0 {
		t.Error("no object was fetched by hash")
	}
	p := &paste.Paste{ID: "newpastezzzzz", Contents: []byte("made on a partial repository")}
	mustCreate(t, s, p)
	if got := git(t, dir, "show", "master:"+pathOf(t, dir, p.ID)); !strings.Contains(got, "made on a partial") {
		t.Errorf("the remote holds %q", got)
	}
	if got := strings.Count(git(t, dir, "ls-tree", "-r", "--name-only", "master"), "\n"); got != len(ids)+1 {
		t.Errorf("the remote holds %d pastes, want %d", got, len(ids)+1)
	}
	// Another server's paste, fetched on a miss into the shallow
	// repository, and a removal there seen here.
	other := open(t, url, eager)
	mustCreate(t, other, &paste.Paste{ID: "fromotherzzzz", Contents: []byte("made elsewhere")})
	if err := other.Remove(context.Background(), ids[5], paste.Deleted); err != nil {
		t.Fatal(err)
	}
	if got := string(mustGet(t, s, "fromotherzzzz").Contents); got != "made elsewhere" {
		t.Errorf("the other server's paste: %q", got)
	}
	if _, err := s.Get(context.Background(), ids[5]); !errors.Is(err, paste.ErrGone) {
		t.Errorf("a paste removed elsewhere: %v, want ErrGone", err)
	}
	gittest.Fsck(t, dir)
	if _, err := s.Purge(context.Background()); !errors.Is(err, ErrPurgeLater) || !errors.Is(err, errPartial) {
		t.Errorf("purge of a shallow history: %v, want ErrPurgeLater (partial)", err)
	}
}

// TestPartialRemoteAway: a read that needs an object while the remote is
// away is ErrUnavailable, not a miss; once it is back, the paste is read,
// and a paste made meanwhile is pushed.
func TestPartialRemoteAway(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	ids := filled(t, url, 4)
	s, err := openDir(t, url, t.TempDir(), steps(0, 0, -1), quickRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d.Kill()
	if _, err := s.Get(context.Background(), ids[0]); !errors.Is(err, paste.ErrUnavailable) {
		t.Fatalf("get with the remote away: %v, want ErrUnavailable", err)
	}
	d.Start(t)
	waitFor(t, 30*time.Second, func() bool {
		_, err := s.Get(context.Background(), ids[0])
		return err == nil
	})
	mustCreate(t, s, &paste.Paste{ID: "afterawayzzzz", Contents: []byte("x")})
	waitFor(t, 30*time.Second, func() bool { return s.Status().Reachable && !s.Status().Unpushed })
	git(t, dir, "show", "master:"+pathOf(t, dir, "afterawayzzzz"))
}

// TestCompletionResumes: the completion stopped after a few steps (as by
// a restart) goes on from where it was when the store opens again, and
// ends with the whole history, as git checks it.
func TestCompletionResumes(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	ids := filled(t, url, 20)
	data := t.TempDir()
	s, err := openDir(t, url, data, steps(1, 3, 3))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return s.Completion().Filled >= 2 })
	s.Close()
	s, err = openDir(t, url, data, steps(1, 3, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c := s.Completion(); !c.Partial {
		t.Fatal("complete after 3 steps")
	}
	// The repack that ends the completion renames the old packs' indexes
	// away: git reads the directory once it is done.
	waitFor(t, 60*time.Second, func() bool { c := s.Completion(); return !c.Partial && !c.Repacking })
	if _, err := os.Stat(filepath.Join(data, "shallow")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("shallow file left: %v", err)
	}
	gittest.Fsck(t, data)
	if got, want := git(t, data, "rev-list", "--count", "master"), git(t, dir, "rev-list", "--count", "master"); got != want {
		t.Errorf("%s commits here, %s on the remote", got, want)
	}
	for _, id := range ids {
		mustGet(t, s, id)
	}
	if c := s.Counters(); c.LazyObjects > 1 {
		t.Errorf("%d objects fetched by hash after completion", c.LazyObjects)
	}
	if _, err := s.Purge(context.Background()); err != nil {
		t.Errorf("purge once complete: %v", err)
	}
}

// TestFullFirstFetch: a remote that allows no partial fetch is fetched
// whole, as before.
func TestFullFirstFetch(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	ids := filled(t, url, 5)
	gittest.ForbidPartial(t, dir)
	data := t.TempDir()
	s, err := openDir(t, url, data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Completion().Partial {
		t.Fatal("partial without the remote's leave")
	}
	if _, err := os.Stat(filepath.Join(data, "shallow")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("shallow file: %v", err)
	}
	mustGet(t, s, ids[2])
	gittest.Fsck(t, data)
}

// TestCompletionThin: the history steps ask for thin packs and complete
// them with the repository's objects; the packs then hold less than
// whole ones would, git finds the repository whole, and pastes are read
// and made while the steps run.
func TestCompletionThin(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, _ := d.NewRepo(t, "pastes.git", true)
	ids := filled(t, url, 24)
	packBytes := map[bool]int64{}
	for round, whole := range []bool{false, true} {
		data := t.TempDir()
		s, err := openDir(t, url, data, steps(4, 2, 0), func(c *Config) { c.completion.whole, c.completion.noRepack = whole, true })
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for i := 0; s.Completion().Partial; i++ {
			if time.Now().After(deadline) {
				t.Fatalf("not complete after 60 s: %+v", s.Completion())
			}
			if i < 8 {
				mustGet(t, s, ids[i])
				mustCreate(t, s, &paste.Paste{ID: fmt.Sprintf("%c%dduringzzzzz", "tw"[round], i), Contents: []byte("made while completing")})
			}
			time.Sleep(20 * time.Millisecond)
		}
		gittest.Fsck(t, data)
		for _, id := range ids {
			mustGet(t, s, id)
		}
		s.Close()
		packs, _ := filepath.Glob(filepath.Join(data, "objects", "pack", "*.pack"))
		for _, p := range packs {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			packBytes[whole] += fi.Size()
		}
	}
	// Whole steps bring the blobs of every commit they unshallow again
	// (50 KB here); thin ones their commits and changed trees (13 KB).
	if 2*packBytes[false] >= packBytes[true] {
		t.Errorf("packs of %d bytes with thin steps, %d with whole ones", packBytes[false], packBytes[true])
	}
	t.Logf("packs of %d bytes with thin steps, %d with whole ones", packBytes[false], packBytes[true])
}

// TestCompletionRepack: at its end the completion repacks what its steps
// left into one pack, each object once (whole steps bring every blob of
// the commits they unshallow again); pastes are read and made meanwhile,
// and git finds the repository whole.
func TestCompletionRepack(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, _ := d.NewRepo(t, "pastes.git", true)
	ids := filled(t, url, 24)
	packBytes := map[bool]int64{}
	for round, repack := range []bool{false, true} {
		data := t.TempDir()
		s, err := openDir(t, url, data, steps(4, 2, 0), func(c *Config) { c.completion.whole, c.completion.noRepack = true, !repack })
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		packs := func() []string {
			p, _ := filepath.Glob(filepath.Join(data, "objects", "pack", "*.pack"))
			return p
		}
		for i := 0; s.Completion().Partial || repack && len(packs()) > 2; i++ {
			if time.Now().After(deadline) {
				t.Fatalf("not complete and repacked after 60 s: %+v, %d packs", s.Completion(), len(packs()))
			}
			if i < 8 {
				mustGet(t, s, ids[i])
				mustCreate(t, s, &paste.Paste{ID: fmt.Sprintf("%c%drepackzzzzz", "nr"[round], i), Contents: []byte("made while completing")})
			}
			time.Sleep(20 * time.Millisecond)
		}
		mustCreate(t, s, &paste.Paste{ID: fmt.Sprintf("%cafterzzzzz", "nr"[round]), Contents: []byte("made after")})
		gittest.Fsck(t, data)
		for _, id := range ids {
			mustGet(t, s, id)
		}
		s.Close()
		for _, p := range packs() {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			packBytes[repack] += fi.Size()
		}
	}
	if 10*packBytes[true] >= 7*packBytes[false] {
		t.Errorf("packs of %d bytes repacked, %d not", packBytes[true], packBytes[false])
	}
	t.Logf("packs of %d bytes repacked, %d not", packBytes[true], packBytes[false])
}
