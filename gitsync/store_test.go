package gitsync

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
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

func samePaste(t *testing.T, got, want *paste.Paste) {
	t.Helper()
	if got.ID != want.ID || string(got.Contents) != string(want.Contents) ||
		got.Encrypted != want.Encrypted || got.Language != want.Language {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// tipCommit returns the commit at the tip of the store's branch.
func tipCommit(t *testing.T, s *Store) *object.Commit {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := s.repo.ref(s.branch)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.repo.commit(h)
	if err != nil {
		t.Fatal(err)
	}
	return c
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

	// The layout: ID[0]/ID[1]/ID, and _/ID for one character.
	s.mu.Lock()
	defer s.mu.Unlock()
	root, _ := s.repo.treeOf(tipHash(t, s))
	for path, id := range map[string]string{"a/b/abcdefghijklm": "abcdefghijklm", "_/z": "z", "z/z/zz": "zz", "Q/9/Q9x": "Q9x"} {
		if _, ok, err := s.repo.entryAt(root, path); !ok || err != nil {
			t.Errorf("%s not at %s (%v)", id, path, err)
		}
	}
}

// tipHash is the branch tip; the caller holds s.mu.
func tipHash(t *testing.T, s *Store) plumbing.Hash {
	h, err := s.repo.ref(s.branch)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCommitMetadata(t *testing.T) {
	s := openMemory(t)
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 2*3600))
	mustCreate(t, s, &paste.Paste{ID: "first", Contents: []byte("a"), User: "alice", Comment: "my snippet", Created: when})
	c := tipCommit(t, s)
	if c.Author.Name != "alice" || c.Author.Email != authorEmail || !c.Author.When.Equal(when) {
		t.Errorf("author %+v", c.Author)
	}
	if c.Message != "my snippet\n" || len(c.ParentHashes) != 0 {
		t.Errorf("message %q, parents %v (want a root commit)", c.Message, c.ParentHashes)
	}

	mustCreate(t, s, &paste.Paste{ID: "second", Contents: []byte("b"), User: "Eve <e@x>\nparent 0000", Comment: "two\nlines"})
	c = tipCommit(t, s)
	if c.Author.Name != "Eve e@x parent 0000" || c.Message != "two lines\n" || len(c.ParentHashes) != 1 {
		t.Errorf("author %q, message %q, parents %d", c.Author.Name, c.Message, len(c.ParentHashes))
	}
	if time.Since(c.Author.When) > time.Minute {
		t.Errorf("zero Created gave %v, want now", c.Author.When)
	}

	mustCreate(t, s, &paste.Paste{ID: "third", Contents: []byte("c")})
	c = tipCommit(t, s)
	if c.Author.Name != defaultAuthor || c.Message != "Paste third\n" {
		t.Errorf("author %q, message %q", c.Author.Name, c.Message)
	}
}

func TestErrExists(t *testing.T) {
	s := openMemory(t)
	mustCreate(t, s, &paste.Paste{ID: "taken", Contents: []byte("1")})
	before := tipCommit(t, s).Hash
	err := s.Create(context.Background(), &paste.Paste{ID: "taken", Contents: []byte("2")})
	if !errors.Is(err, paste.ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	if got := tipCommit(t, s).Hash; got != before {
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

// writeOriginal commits files at the root of the branch, as the original
// pasteur did: one file per paste, named by its id.
func writeOriginal(t *testing.T, s *Store, files map[string]string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := tipHash(t, s)
	root, err := s.repo.treeOf(parent)
	if err != nil {
		t.Fatal(err)
	}
	var fs []file
	for name, content := range files {
		h, err := s.repo.putBlob([]byte(content))
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, file{path: name, hash: h, mode: filemode.Regular})
	}
	tree, err := s.repo.addFiles(root, fs)
	if err != nil {
		t.Fatal(err)
	}
	c := &object.Commit{TreeHash: tree, Author: signature("", time.Now()), Message: "original\n"}
	c.Committer = c.Author
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	h, err := s.repo.put(c.Encode)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.repo.setRef(s.branch, h); err != nil {
		t.Fatal(err)
	}
}

func TestFlatLayout(t *testing.T) {
	s := openMemory(t)
	writeOriginal(t, s, map[string]string{
		"AbC":    `{"contents":"original paste","encrypted":false}`,
		"xY":     `{"contents":"two-character original","encrypted":true}`,
		"README": "not a paste",
	})
	samePaste(t, mustGet(t, s, "AbC"), &paste.Paste{ID: "AbC", Contents: []byte("original paste")})
	samePaste(t, mustGet(t, s, "xY"), &paste.Paste{ID: "xY", Contents: []byte("two-character original"), Encrypted: true})

	for _, id := range []string{"AbC", "xY"} {
		if err := s.Create(context.Background(), &paste.Paste{ID: id}); !errors.Is(err, paste.ErrExists) {
			t.Errorf("Create(%q) over an original paste: %v, want ErrExists", id, err)
		}
	}

	// "q" is a file at the root, so "q/r/qrs" cannot be: the new paste
	// goes where the ID[0:2]/ID layout put it.
	writeOriginal(t, s, map[string]string{"q": `{"contents":"one","encrypted":false}`})
	mustCreate(t, s, &paste.Paste{ID: "qrs", Contents: []byte("blocked")})
	mustCreate(t, s, &paste.Paste{ID: "xYz", Contents: []byte("new")})
	mustCreate(t, s, &paste.Paste{ID: "Ab", Contents: []byte("new two")})
	samePaste(t, mustGet(t, s, "xYz"), &paste.Paste{ID: "xYz", Contents: []byte("new")})
	samePaste(t, mustGet(t, s, "Ab"), &paste.Paste{ID: "Ab", Contents: []byte("new two")})
	samePaste(t, mustGet(t, s, "qrs"), &paste.Paste{ID: "qrs", Contents: []byte("blocked")})
	samePaste(t, mustGet(t, s, "AbC"), &paste.Paste{ID: "AbC", Contents: []byte("original paste")})

	s.mu.Lock()
	defer s.mu.Unlock()
	root, _ := s.repo.treeOf(tipHash(t, s))
	for _, path := range []string{"x/Y/xYz", "A/b/Ab", "AbC", "xY", "q", "qr/qrs"} {
		if e, ok, err := s.repo.entryAt(root, path); !ok || err != nil || e.Mode != filemode.Regular {
			t.Errorf("%s: %v %v %v", path, e, ok, err)
		}
	}
}

func TestConcurrentCreates(t *testing.T) {
	s := openMemory(t)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	line, err := s.repo.commitsSince(tipHash(t, s), plumbing.ZeroHash)
	if err != nil || len(line) > n || len(line) < 1 {
		t.Errorf("%d commits (%v), want 1..%d", len(line), err, n)
	}
}

func TestCreateGroup(t *testing.T) {
	s := openMemory(t)
	ps := []*paste.Paste{{ID: "g1", Contents: []byte("1")}, {ID: "g2", Contents: []byte("2")}}
	if err := s.create(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		samePaste(t, mustGet(t, s, p.ID), p)
	}
	if c := tipCommit(t, s); c.Author.Name != defaultAuthor || c.Message != "Pastes g1, g2\n" {
		t.Errorf("group commit %q %q", c.Author.Name, c.Message)
	}
	dup := []*paste.Paste{{ID: "g3"}, {ID: "g3"}}
	if err := s.create(context.Background(), dup); !errors.Is(err, paste.ErrExists) {
		t.Errorf("duplicate ids in a group: %v", err)
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
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"--git-dir=" + dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if got := git("show", "pastes:o/n/ondisk12345"); got != `{"contents":"kept","encrypted":false,"hl":"c"}`+"\n" {
		t.Errorf("git show: %q", got)
	}
	git("fsck", "--strict")
	if got := strings.TrimSpace(git("symbolic-ref", "HEAD")); got != "refs/heads/pastes" {
		t.Errorf("HEAD is %s", got)
	}
}

// TestPackedGroups: groups of pastes are written as packs, merged into one
// every mergePacks; the repository stays readable, also by git, after a
// reopen.
func TestPackedGroups(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for g := range mergePacks + 3 {
		var group []*paste.Paste
		for i := range 5 {
			id := fmt.Sprintf("pk%02d%d", g, i)
			ids = append(ids, id)
			contents := id
			if i == 0 {
				contents = strings.Repeat(id, 2000) // deflated in the pack
			}
			group = append(group, &paste.Paste{ID: id, Contents: []byte(contents)})
		}
		if err := s.create(context.Background(), group); err != nil {
			t.Fatal(err)
		}
	}
	packs, err := s.repo.disk.packs()
	if err != nil {
		t.Fatal(err)
	}
	// One merged pack and the three since, each with its index.
	if len(packs) != 2*4 {
		t.Errorf("%d pack files, want 8: %v", len(packs), packs)
	}
	s.Close()
	s, err = Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range ids {
		if p := mustGet(t, s, id); !strings.HasPrefix(string(p.Contents), id) || len(p.Contents)%len(id) != 0 {
			t.Errorf("%s: %q", id, p.Contents)
		}
	}
	if _, err := exec.LookPath("git"); err == nil {
		if out, err := exec.Command("git", "--git-dir="+dir, "fsck", "--strict").CombinedOutput(); err != nil {
			t.Errorf("git fsck: %v\n%s", err, out)
		}
	}
}
