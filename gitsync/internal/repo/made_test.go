package repo

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/revlist"

	"github.com/pasteur-dev/pasteur/paste"
)

// TestMadeRecords: what the commits' records give a push is what the
// diff of their trees gives, less only objects the remote holds (files a
// split moved), and the deltas they made are the ones the push would
// make: the thin pack is the same, byte for byte.
func TestMadeRecords(t *testing.T) {
	r := open(t, "")
	r.KeepRecords(true)
	rng := rand.New(rand.NewPCG(5, 6))
	group := func(prefix string, n int) {
		var ps []*paste.Paste
		for range n {
			id := prefix + randomID(rng, 13-len(prefix))
			ps = append(ps, &paste.Paste{ID: id, Contents: []byte(id)})
		}
		commit(t, r, ps...)
	}
	for range 8 {
		group("", 60)
	}
	group("xy", 40)
	old := mustRef(t, r)
	group("x", 30)
	group("xy", 40) // splits the leaf x/y: its files, on the remote, move
	for i := range 5 {
		group(fmt.Sprint(i), 1)
	}
	tip := mustRef(t, r)

	hashes, bases, deltas, err := r.changesSince(tip, old)
	if err != nil {
		t.Fatal(err)
	}
	if len(deltas) == 0 {
		t.Fatal("the records made no deltas")
	}
	if len(r.made) != 8 { // the commits before old (the first, a root, has none)
		t.Errorf("%d records left, want the 8 before old", len(r.made))
	}
	withDeltas, err := r.thinPack(hashes, bases, deltas)
	if err != nil {
		t.Fatal(err)
	}
	without, err := r.thinPack(hashes, bases, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(withDeltas, without) {
		t.Errorf("the pack with the records' deltas (%d bytes) is not the one without (%d)", len(withDeltas), len(without))
	}

	walked, _, _, err := r.changesSince(tip, old) // the records are taken: a diff
	if err != nil {
		t.Fatal(err)
	}
	recorded := make(map[plumbing.Hash]bool, len(hashes))
	for _, h := range hashes {
		recorded[h] = true
	}
	remote, err := revlist.Objects(r.st, []plumbing.Hash{old}, nil)
	if err != nil {
		t.Fatal(err)
	}
	has := make(map[plumbing.Hash]bool, len(remote))
	for _, h := range remote {
		has[h] = true
	}
	if len(walked) == len(hashes) {
		t.Error("no file moved")
	}
	moved := 0
	for _, h := range walked {
		if !recorded[h] {
			if !has[h] {
				t.Fatalf("%s: the diff sends it, the records do not, and the remote lacks it", h)
			}
			moved++
		}
	}
	t.Logf("%d objects recorded, %d by the diff, %d of them moved files the remote holds; %d deltas made", len(hashes), len(walked), moved, len(deltas))
}

// TestAppendTree: the encoding of a tree is go-git's, byte for byte.
func TestAppendTree(t *testing.T) {
	entries := []object.TreeEntry{
		{Name: "a", Mode: filemode.Regular, Hash: plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")},
		{Name: "b", Mode: filemode.Dir, Hash: plumbing.NewHash("89abcdef0123456789abcdef0123456789abcdef")},
		{Name: "c-d_e", Mode: filemode.Executable},
		{Name: "l", Mode: filemode.Symlink},
		{Name: "m", Mode: filemode.Submodule},
		{Name: "o", Mode: filemode.Deprecated},
	}
	var o plumbing.MemoryObject
	if err := (&object.Tree{Entries: entries}).Encode(&o); err != nil {
		t.Fatal(err)
	}
	want, _ := contents(&o)
	got, err := appendTree(nil, entries)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%q, %v; want %q", got, err, want)
	}
	if _, err := appendTree(nil, []object.TreeEntry{{Name: "a\x00b"}}); err == nil {
		t.Error("a name with a NUL encoded")
	}
}

// TestTreeDeltaNotCanonical: a tree whose modes go-git's decoding makes
// canonical (040000, 100664) encodes to other bytes than its own: no
// delta is made against it, and the push reads it.
func TestTreeDeltaNotCanonical(t *testing.T) {
	r := open(t, "")
	blob, err := r.putBlob([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, name := range []string{"a", "b", "c"} {
		raw = append(raw, "100664 "+name+"\x00"...)
		raw = append(raw, blob[:]...)
	}
	o := &plumbing.MemoryObject{}
	o.SetType(plumbing.TreeObject)
	o.Write(raw)
	base, err := r.st.SetEncodedObject(o)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := r.tree(base)
	if err != nil {
		t.Fatal(err)
	}
	if d := r.treeDelta(base, raw); d != nil {
		t.Fatalf("a delta against a tree encoded otherwise (%v)", bt.Entries[0].Mode)
	}
}
