package repo

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

var master = plumbing.NewBranchReferenceName("master")

func open(t *testing.T, dir string) *Repo {
	t.Helper()
	r, err := Open(dir, master)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// commit commits pastes on master and returns the new tip.
func commit(t *testing.T, r *Repo, pastes ...*paste.Paste) plumbing.Hash {
	t.Helper()
	parent, err := r.Ref(master)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := r.CommitPastes(parent, pastes, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(master, tip); err != nil {
		t.Fatal(err)
	}
	return tip
}

func tipCommit(t *testing.T, r *Repo) *object.Commit {
	t.Helper()
	h, err := r.Ref(master)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.commit(h)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLayout: ID[0]/ID[1]/ID, and _/ID for one character; Find reads each.
func TestLayout(t *testing.T) {
	r := open(t, "")
	ps := map[string]string{"a/b/abcdefghijklm": "abcdefghijklm", "_/z": "z", "z/z/zz": "zz", "Q/9/Q9x": "Q9x"}
	for _, id := range ps {
		commit(t, r, &paste.Paste{ID: id, Contents: []byte(id)})
	}
	tip, _ := r.Ref(master)
	root, _ := r.treeOf(tip)
	for path, id := range ps {
		if _, ok, err := r.entryAt(root, path); !ok || err != nil {
			t.Errorf("%s not at %s (%v)", id, path, err)
		}
		data, err := r.Find(tip, id)
		if err != nil || !strings.Contains(string(data), id) {
			t.Errorf("Find %s: %q %v", id, data, err)
		}
	}
	if _, err := r.Find(tip, "nothere"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("Find missing: %v", err)
	}
	if err := r.Free(tip, "zz"); !errors.Is(err, paste.ErrExists) {
		t.Errorf("Free of a taken id: %v", err)
	}
	if err := r.Free(tip, "new"); err != nil {
		t.Errorf("Free of a free id: %v", err)
	}
}

func TestCommitMetadata(t *testing.T) {
	r := open(t, "")
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 2*3600))
	commit(t, r, &paste.Paste{ID: "first", Contents: []byte("a"), User: "alice", Comment: "my snippet", Created: when})
	c := tipCommit(t, r)
	if c.Author.Name != "alice" || c.Author.Email != authorEmail || !c.Author.When.Equal(when) {
		t.Errorf("author %+v", c.Author)
	}
	if c.Message != "my snippet\n" || len(c.ParentHashes) != 0 {
		t.Errorf("message %q, parents %v (want a root commit)", c.Message, c.ParentHashes)
	}

	commit(t, r, &paste.Paste{ID: "second", Contents: []byte("b"), User: "Eve <e@x>\nparent 0000", Comment: "two\nlines"})
	c = tipCommit(t, r)
	if c.Author.Name != "Eve e@x parent 0000" || c.Message != "two lines\n" || len(c.ParentHashes) != 1 {
		t.Errorf("author %q, message %q, parents %d", c.Author.Name, c.Message, len(c.ParentHashes))
	}
	if time.Since(c.Author.When) > time.Minute {
		t.Errorf("zero Created gave %v, want now", c.Author.When)
	}

	commit(t, r, &paste.Paste{ID: "third", Contents: []byte("c")})
	c = tipCommit(t, r)
	if c.Author.Name != anonymousAuthor || c.Message != "Paste third\n" {
		t.Errorf("author %q, message %q", c.Author.Name, c.Message)
	}

	commit(t, r, &paste.Paste{ID: "g1", Contents: []byte("1")}, &paste.Paste{ID: "g2", Contents: []byte("2")})
	if c := tipCommit(t, r); c.Author.Name != defaultAuthor || c.Message != "Pastes g1, g2\n" {
		t.Errorf("group commit %q %q", c.Author.Name, c.Message)
	}
	tip, _ := r.Ref(master)
	_, err := r.CommitPastes(tip, []*paste.Paste{{ID: "g3"}, {ID: "g3"}}, time.Now())
	if !errors.Is(err, paste.ErrExists) {
		t.Errorf("duplicate ids in a group: %v", err)
	}
	if _, err := r.CommitPastes(tip, []*paste.Paste{{ID: "g1"}}, time.Now()); !errors.Is(err, paste.ErrExists) {
		t.Errorf("a taken id: %v", err)
	}
}

// writeOriginal commits files at the root of the branch, as the original
// pasteur did: one file per paste, named by its id.
func writeOriginal(t *testing.T, r *Repo, files map[string]string) {
	t.Helper()
	parent, _ := r.Ref(master)
	root, err := r.treeOf(parent)
	if err != nil {
		t.Fatal(err)
	}
	var fs []file
	for name, content := range files {
		h, err := r.putBlob([]byte(content))
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, file{path: name, hash: h, mode: filemode.Regular})
	}
	tree, err := r.addFiles(root, fs)
	if err != nil {
		t.Fatal(err)
	}
	c := &object.Commit{TreeHash: tree, Author: signature("", time.Now()), Message: "original\n"}
	c.Committer = c.Author
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	h, err := r.put(c.Encode)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(master, h); err != nil {
		t.Fatal(err)
	}
}

func TestFlatLayout(t *testing.T) {
	r := open(t, "")
	writeOriginal(t, r, map[string]string{
		"AbC":    `{"contents":"original paste","encrypted":false}`,
		"xY":     `{"contents":"two-character original","encrypted":true}`,
		"README": "not a paste",
	})
	find := func(id, want string) {
		t.Helper()
		tip, _ := r.Ref(master)
		if data, err := r.Find(tip, id); err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s: %q %v, want %q", id, data, err, want)
		}
	}
	find("AbC", "original paste")
	find("xY", "two-character original")
	tip, _ := r.Ref(master)
	for _, id := range []string{"AbC", "xY"} {
		if err := r.Free(tip, id); !errors.Is(err, paste.ErrExists) {
			t.Errorf("Free(%q) over an original paste: %v, want ErrExists", id, err)
		}
	}

	// "q" is a file at the root, so "q/r/qrs" cannot be: the new paste
	// goes where the ID[0:2]/ID layout put it.
	writeOriginal(t, r, map[string]string{"q": `{"contents":"one","encrypted":false}`})
	commit(t, r, &paste.Paste{ID: "qrs", Contents: []byte("blocked")})
	commit(t, r, &paste.Paste{ID: "xYz", Contents: []byte("new")})
	commit(t, r, &paste.Paste{ID: "Ab", Contents: []byte("new two")})
	find("xYz", "new")
	find("Ab", "new two")
	find("qrs", "blocked")
	find("AbC", "original paste")

	tip, _ = r.Ref(master)
	root, _ := r.treeOf(tip)
	for _, path := range []string{"x/Y/xYz", "A/b/Ab", "AbC", "xY", "q", "qr/qrs"} {
		if e, ok, err := r.entryAt(root, path); !ok || err != nil || e.Mode != filemode.Regular {
			t.Errorf("%s: %v %v %v", path, e, ok, err)
		}
	}
}

// TestPackedGroups: groups of pastes are written as packs with pasteur's
// index (the one git index-pack writes), merged into one every mergePacks;
// the repository stays readable, also by git, after a reopen.
func TestPackedGroups(t *testing.T) {
	gittest.Require(t)
	dir := t.TempDir()
	r, err := Open(dir, master)
	if err != nil {
		t.Fatal(err)
	}
	ids := writeGroups(t, r)
	checkPacks(t, r, dir, ids)
}

// writeGroups commits mergePacks+3 groups of 5 pastes, and returns their
// ids.
func writeGroups(t *testing.T, r *Repo) []string {
	t.Helper()
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
		commit(t, r, group...)
		// Readable at once, through the batch's packs.
		tip, _ := r.Ref(master)
		if _, err := r.Find(tip, group[1].ID); err != nil {
			t.Fatalf("group %d: %v", g, err)
		}
	}
	return ids
}

// TestPackedGroupsInMemory: the same, in memory.
func TestPackedGroupsInMemory(t *testing.T) {
	r := open(t, "")
	ids := writeGroups(t, r)
	tip, _ := r.Ref(master)
	for _, id := range ids {
		if data, err := r.Find(tip, id); err != nil || !strings.Contains(string(data), id) {
			t.Errorf("%s: %.40q %v", id, data, err)
		}
	}
}

// checkPacks checks the packs of the repository in dir, and closes r,
// which holds it, to read ids from the repository opened again.
func checkPacks(t *testing.T, r *Repo, dir string, ids []string) {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "pack-*"))
	// One merged pack and the three since, each with its index.
	if len(packs) != 2*4 {
		t.Errorf("%d pack files, want 8: %v", len(packs), packs)
	}
	for _, p := range packs {
		idx, ok := strings.CutSuffix(p, ".pack")
		if !ok {
			continue
		}
		copied := filepath.Join(t.TempDir(), "p.pack")
		b, _ := os.ReadFile(p)
		os.WriteFile(copied, b, 0o666)
		gittest.Run(t, "", "index-pack", copied)
		want, _ := os.ReadFile(strings.TrimSuffix(copied, ".pack") + ".idx")
		got, _ := os.ReadFile(idx + ".idx")
		if !bytes.Equal(got, want) {
			t.Errorf("%s: index differs from git's", filepath.Base(idx))
		}
	}
	r.Close()
	r = open(t, dir)
	tip, _ := r.Ref(master)
	for _, id := range ids {
		data, err := r.Find(tip, id)
		if err != nil || !strings.Contains(string(data), id) {
			t.Errorf("%s: %.40q %v", id, data, err)
		}
	}
	gittest.Git(t, dir, "fsck", "--strict")
}

// TestReplay: commits made on another line are replayed onto it, keeping
// their authors; a file the other line holds differently is dropped.
func TestReplay(t *testing.T) {
	r := open(t, "")
	base := commit(t, r, &paste.Paste{ID: "base", Contents: []byte("0")})
	commit(t, r, &paste.Paste{ID: "mine", Contents: []byte("1"), User: "me"})
	mine := commit(t, r, &paste.Paste{ID: "clash", Contents: []byte("mine")})
	theirs, err := r.CommitPastes(base, []*paste.Paste{{ID: "clash", Contents: []byte("theirs")}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if mb, err := r.MergeBase(mine, theirs); err != nil || mb != base {
		t.Fatalf("merge base %s %v, want %s", mb, err, base)
	}
	tip, err := r.Replay(mine, base, theirs, slogDiscard)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"base": "0", "mine": "1", "clash": "theirs"} {
		if data, err := r.Find(tip, id); err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s: %q %v", id, data, err)
		}
	}
	if mb, _ := r.MergeBase(theirs, tip); mb != theirs {
		t.Error("the replay is not on the other line")
	}
	pack, err := r.PackFor(tip, theirs, nil, false, false)
	if err != nil || len(pack) == 0 {
		t.Errorf("PackFor: %d bytes, %v", len(pack), err)
	}
	if _, err := r.PackFor(tip, mine, nil, false, false); !errors.Is(err, ErrNotAncestor) {
		t.Errorf("PackFor from another line: %v", err)
	}
}

var slogDiscard = slog.New(slog.DiscardHandler)
