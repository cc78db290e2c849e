package repo

import (
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/revlist"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// remove commits the removal of ids on master and returns the new tip.
func remove(t *testing.T, r *Repo, ids ...string) plumbing.Hash {
	t.Helper()
	parent, err := r.Ref(master)
	if err != nil {
		t.Fatal(err)
	}
	var rms []Removal
	for _, id := range ids {
		rms = append(rms, Removal{ID: id, Why: paste.Deleted, Tombstone: paste.MarshalTombstone(paste.Deleted, time.Now())})
	}
	tip, err := r.CommitRemovals(parent, rms, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(master, tip); err != nil {
		t.Fatal(err)
	}
	return tip
}

// TestPurge: after a purge no commit reaches a removed paste's blob, the
// tip's tree is the same, live pastes and the other commits' messages are
// kept, the commits before the first removed paste keep their hashes, and
// git accepts the result.
func TestPurge(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	before := commit(t, r, &paste.Paste{ID: "keep1", Contents: []byte("one"), Comment: "first"})
	commit(t, r, &paste.Paste{ID: "secret", Contents: []byte("a secret pasted by mistake")})
	commit(t, r, &paste.Paste{ID: "keep2", Contents: []byte("two"), Comment: "second"},
		&paste.Paste{ID: "secret2", Contents: []byte("grouped with keep2")})
	commit(t, r, &paste.Paste{ID: "keep3", Contents: []byte("three"), Comment: "third"})
	remove(t, r, "secret", "secret2")
	tip := commit(t, r, &paste.Paste{ID: "keep4", Contents: []byte("four"), Comment: "after"})

	blobOf := func(id string) plumbing.Hash {
		h, err := r.putBlob(mustMarshal(t, &paste.Paste{ID: id, Contents: []byte(map[string]string{"secret": "a secret pasted by mistake", "secret2": "grouped with keep2"}[id])}))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	secrets := []plumbing.Hash{blobOf("secret"), blobOf("secret2")}

	p, err := r.NewPurge(tip, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	for !p.Done() {
		if err := p.Step(2); err != nil {
			t.Fatal(err)
		}
	}
	newTip := p.Tip()
	if newTip == tip {
		t.Fatal("nothing was rewritten")
	}
	addPurge(t, r, p)
	if a, b := mustTree(t, r, tip), mustTree(t, r, newTip); a != b {
		t.Errorf("the tip's tree changed: %s, %s", a, b)
	}
	objs, err := revlist.Objects(r.st, []plumbing.Hash{newTip}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		for _, s := range secrets {
			if o == s {
				t.Errorf("the purged history still holds %s", s)
			}
		}
	}
	if err := r.SetRef(master, newTip); err != nil {
		t.Fatal(err)
	}
	log := gittest.Git(t, dir, "log", "--format=%s", "master")
	want := "after\nRemove secret (deleted), secret2 (deleted)\nthird\nPastes keep2, secret2\nfirst\n"
	if log != want {
		t.Errorf("log:\n%s\nwant:\n%s", log, want)
	}
	if first := strings.TrimSpace(gittest.Git(t, dir, "rev-list", "--max-parents=0", "master")); first != before.String() {
		t.Errorf("the first commit was rewritten: %s, want %s", first, before)
	}
	st := p.Stats()
	if st.Commits != 6 || st.Dropped != 1 || st.Rewritten != 4 {
		t.Errorf("stats %+v", st)
	}
	gittest.Fsck(t, dir)

	// A second purge has nothing to do.
	p, _ = r.NewPurge(newTip, plumbing.ZeroHash)
	for !p.Done() {
		if err := p.Step(100); err != nil {
			t.Fatal(err)
		}
	}
	if p.Tip() != newTip || p.Objects() != 0 {
		t.Errorf("a second purge rewrote: %s, %d objects", p.Tip(), p.Objects())
	}
}

func mustMarshal(t *testing.T, p *paste.Paste) []byte {
	t.Helper()
	b, err := paste.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTree(t *testing.T, r *Repo, h plumbing.Hash) plumbing.Hash {
	t.Helper()
	tree, err := r.treeOf(h)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}
