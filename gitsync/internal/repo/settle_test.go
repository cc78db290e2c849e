package repo

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
)

// TestSettle: after a few staged commits, Settle merges what waits and
// keeps only the tip's upper trees; the pastes are read back, the next commit
// builds on the tip, and a reopen finds them all.
func TestSettle(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	tip := commit(t, r, &paste.Paste{ID: "base", Contents: []byte("base")})
	var ids []string
	for c := range 3 {
		var pastes []*paste.Paste
		var blobs []Blob
		for i := range 12 {
			p := &paste.Paste{ID: fmt.Sprintf("settle%d%02d", c, i), Contents: []byte(fmt.Sprint(c, i))}
			doc, err := paste.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			pastes, blobs, ids = append(pastes, p), append(blobs, MakeBlob(doc)), append(ids, p.ID)
		}
		next, err := r.CommitBlobs(tip, pastes, blobs, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		s := written(t, r, next)
		if err := s.Finish(); err != nil {
			t.Fatal(err)
		}
		tip = next
	}
	if len(r.small) == 0 {
		t.Fatal("nothing waits for a merge before Settle")
	}
	if err := r.Settle(); err != nil {
		t.Fatal(err)
	}
	if len(r.small) != 0 || r.smallBytes != 0 || len(r.versions) != 0 {
		t.Errorf("after Settle: %d packs, %d bytes, %d versions wait", len(r.small), r.smallBytes, len(r.versions))
	}
	kept := len(r.trees.young) + len(r.trees.old)
	root, err := object.GetTree(r.st, r.lastTree)
	if err != nil {
		t.Fatal(err)
	}
	want := 1
	for _, e := range root.Entries {
		if e.Mode == filemode.Dir {
			want++
		}
	}
	if _, ok := r.trees.get(r.lastTree); !ok {
		t.Error("after Settle the tip's root is not kept")
	}
	if kept > want {
		t.Errorf("after Settle %d trees are kept, want the root and the %d it names", kept, want-1)
	}
	if err := r.Settle(); err != nil { // nothing to do
		t.Fatal(err)
	}
	assertPacksDropped(t, r)
	for _, id := range ids {
		if data, err := r.Find(tip, id); err != nil || len(data) == 0 {
			t.Errorf("%s after Settle: %v", id, err)
		}
	}
	tip, err = r.CommitPastes(tip, []*paste.Paste{{ID: "after", Contents: []byte("after")}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(master, tip); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r = open(t, dir)
	for _, id := range append(ids, "after") {
		if data, err := r.Find(tip, id); err != nil || len(data) == 0 {
			t.Errorf("%s after a reopen: %v", id, err)
		}
	}
}

// TestSettleDropsIndexes: the indexes of the packs read since the last
// merge (a round of the log that stays a pack of its own, not merged)
// are not held after Settle, even when nothing waited for a merge; the
// next read lists the packs again.
func TestSettleDropsIndexes(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	tip := commit(t, r, &paste.Paste{ID: "base", Contents: []byte("base")})
	if err := r.Settle(); err != nil { // the flush merged into a pack
		t.Fatal(err)
	}
	r.Close()
	r = open(t, dir)
	if data, err := r.Find(tip, "base"); err != nil || len(data) == 0 {
		t.Fatalf("base: %v", err)
	}
	if !r.batch.packs.listed || len(r.batch.packs.packs) == 0 {
		t.Fatal("no pack read before the second Settle")
	}
	if len(r.small) != 0 {
		t.Fatalf("%d packs wait for a merge: want none", len(r.small))
	}
	if err := r.Settle(); err != nil {
		t.Fatal(err)
	}
	assertPacksDropped(t, r)
	if data, err := r.Find(tip, "base"); err != nil || len(data) == 0 {
		t.Errorf("base after Settle: %v", err)
	}
}

// assertPacksDropped checks that r holds no pack index after Settle.
func assertPacksDropped(t *testing.T, r *Repo) {
	t.Helper()
	if s := r.batch.packs; s.listed || len(s.packs) != 0 || len(s.open) != 0 {
		t.Errorf("after Settle: packs listed %v, %d indexes held, %d packs open", s.listed, len(s.packs), len(s.open))
	}
}
