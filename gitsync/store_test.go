package gitsync

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
)

func openMemory(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustCreate(t *testing.T, s *Store, p *paste.Paste) {
	t.Helper()
	if err := s.Create(context.Background(), p); err != nil {
		t.Fatalf("Create %s: %v", p.ID, err)
	}
}

func mustGet(t *testing.T, s *Store, id string) *paste.Paste {
	t.Helper()
	p, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return p
}

// tipOf is the tip of the store's branch.
func tipOf(t *testing.T, s *Store) plumbing.Hash {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := s.repo.Ref(s.branch)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func samePaste(t *testing.T, got, want *paste.Paste) {
	t.Helper()
	if got.ID != want.ID || string(got.Contents) != string(want.Contents) ||
		got.Encrypted != want.Encrypted || got.Language != want.Language {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	s := openMemory(t)
	tests := []*paste.Paste{
		{ID: "abcdefghijklm", Contents: []byte("hello\n"), Language: "go"},
		{ID: "z", Contents: []byte("one character")},
		{ID: "zz", Contents: []byte("two characters")},
		{ID: "abc", Contents: []byte(`{"iv":"...","ct":"..."}`), Encrypted: true},
		{ID: "Q9x", Contents: nil},
	}
	for _, p := range tests {
		mustCreate(t, s, p)
	}
	for _, want := range tests {
		got := mustGet(t, s, want.ID)
		samePaste(t, got, want)
		if got.User != "" || got.Comment != "" || !got.Created.IsZero() {
			t.Errorf("%s: metadata filled: %+v", want.ID, got)
		}
	}
	if _, err := s.Get(context.Background(), "nothere"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("Get missing: %v, want ErrNotFound", err)
	}
}

func TestErrExists(t *testing.T) {
	s := openMemory(t)
	mustCreate(t, s, &paste.Paste{ID: "taken", Contents: []byte("1")})
	before := tipOf(t, s)
	err := s.Create(context.Background(), &paste.Paste{ID: "taken", Contents: []byte("2")})
	if !errors.Is(err, paste.ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	if got := tipOf(t, s); got != before {
		t.Errorf("branch moved on ErrExists")
	}
	if p := mustGet(t, s, "taken"); string(p.Contents) != "1" {
		t.Errorf("contents %q", p.Contents)
	}
}

func TestInvalid(t *testing.T) {
	s := openMemory(t)
	for _, id := range []string{"", "a/b", "../etc", "a b", "é", strings.Repeat("a", paste.MaxIDLength+1), "ab/"} {
		if _, err := s.Get(context.Background(), id); !errors.Is(err, paste.ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
		}
		if err := s.Create(context.Background(), &paste.Paste{ID: id}); !errors.Is(err, paste.ErrInvalid) {
			t.Errorf("Create(%q): %v, want ErrInvalid", id, err)
		}
	}
	// paste.Marshal's error passes through.
	err := s.Create(context.Background(), &paste.Paste{ID: "bad", Contents: []byte{0xff, 0xfe}})
	if !errors.Is(err, paste.ErrInvalid) {
		t.Errorf("Create with non-UTF-8: %v, want ErrInvalid", err)
	}
	if _, err := s.Get(context.Background(), "bad"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("a refused paste was stored: %v", err)
	}
}

func TestConcurrentCreates(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- s.Create(context.Background(), &paste.Paste{ID: fmt.Sprintf("id%03d", i), Contents: []byte(fmt.Sprint(i))})
		}()
		go func() {
			defer wg.Done()
			_, err := s.Get(context.Background(), fmt.Sprintf("id%03d", (i+7)%n))
			if errors.Is(err, paste.ErrNotFound) {
				err = nil
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range n {
		if p := mustGet(t, s, fmt.Sprintf("id%03d", i)); string(p.Contents) != fmt.Sprint(i) {
			t.Errorf("id%03d: %q", i, p.Contents)
		}
	}
	// At most one commit per paste (concurrent ones share), in a line.
	gittest.Require(t)
	logCommitted(t, s)
	commits, _ := strconv.Atoi(strings.TrimSpace(gittest.Git(t, dir, "rev-list", "--count", "--first-parent", "master")))
	merges := strings.TrimSpace(gittest.Git(t, dir, "rev-list", "--merges", "master"))
	if commits > n || commits < 1 || merges != "" {
		t.Errorf("%d commits, merges %q; want 1..%d in a line", commits, merges, n)
	}
}

// TestGroupExists: a taken id fails alone; the rest of its group is
// stored, and of two pastes with one id, one is.
func TestGroupExists(t *testing.T) {
	s := openMemory(t)
	mustCreate(t, s, &paste.Paste{ID: "taken", Contents: []byte("first")})
	for round := range 5 {
		fresh := fmt.Sprintf("fresh%d", round)
		ps := []*paste.Paste{
			{ID: "taken", Contents: []byte("again")},
			{ID: fresh, Contents: []byte("a")},
			{ID: fresh, Contents: []byte("b")},
			{ID: fresh + "x", Contents: []byte("c")},
		}
		errs := make([]error, len(ps))
		var wg sync.WaitGroup
		for i, p := range ps {
			wg.Go(func() { errs[i] = s.Create(context.Background(), p) })
		}
		wg.Wait()
		if !errors.Is(errs[0], paste.ErrExists) || errs[3] != nil {
			t.Errorf("round %d: taken %v, other %v", round, errs[0], errs[3])
		}
		ok := 0
		for _, i := range []int{1, 2} {
			switch {
			case errs[i] == nil:
				ok++
				if p := mustGet(t, s, fresh); string(p.Contents) != string(ps[i].Contents) {
					t.Errorf("round %d: %s holds %q, not the acknowledged %q", round, fresh, p.Contents, ps[i].Contents)
				}
			case !errors.Is(errs[i], paste.ErrExists):
				t.Errorf("round %d: %v", round, errs[i])
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d of two pastes with one id stored", round, ok)
		}
	}
}

func TestDiskReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{Dir: dir, Branch: "pastes"})
	if err != nil {
		t.Fatal(err)
	}
	want := &paste.Paste{ID: "ondisk12345", Contents: []byte("kept"), Language: "c"}
	mustCreate(t, s, want)
	mustCreate(t, s, &paste.Paste{ID: "o", Contents: []byte("one")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(context.Background(), &paste.Paste{ID: "late"}); !errors.Is(err, paste.ErrUnavailable) {
		t.Errorf("Create after Close: %v", err)
	}

	s, err = Open(context.Background(), Config{Dir: dir, Branch: "pastes"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	samePaste(t, mustGet(t, s, want.ID), want)

	// git itself reads the repository, and finds it sound.
	gittest.Require(t)
	git := func(args ...string) string { return gittest.Git(t, dir, args...) }
	if got := git("show", "pastes:o/n/ondisk12345"); got != `{"contents":"kept","encrypted":false,"hl":"c"}`+"\n" {
		t.Errorf("git show: %q", got)
	}
	git("fsck", "--strict")
	if got := strings.TrimSpace(git("symbolic-ref", "HEAD")); got != "refs/heads/pastes" {
		t.Errorf("HEAD is %s", got)
	}
}

// TestStoreContract: the git store, in memory and on disk, keeps
// paste.Store's contract.
func TestStoreContract(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		pastetest.TestStore(t, func(t *testing.T) paste.Store { return openMemory(t) })
	})
	t.Run("disk", func(t *testing.T) {
		pastetest.TestStore(t, func(t *testing.T) paste.Store {
			s, err := Open(context.Background(), Config{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

// TestCounters: every paste committed is counted once, in some commit.
func TestCounters(t *testing.T) {
	s := openMemory(t)
	for i := range 3 {
		mustCreate(t, s, &paste.Paste{ID: fmt.Sprintf("count%d", i), Contents: []byte("x")})
	}
	c := s.Counters()
	if c.Pastes != 3 || c.Commits < 1 || c.Commits > 3 || c.Pushes != 0 {
		t.Errorf("Counters() = %+v, want 3 pastes in 1 to 3 commits, no push", c)
	}
}
