package repo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
)

// TestIDFilterBloom: every name added is "maybe"; of names never added,
// few are, past several segments; the memory is as documented.
func TestIDFilterBloom(t *testing.T) {
	f := newIDFilter(plumbing.ZeroHash)
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 400_000 // three segments: 64k, 256k, 1M
	names := make([]string, n)
	for i := range names {
		names[i] = randomID(rng, 13)
		f.add(names[i])
	}
	for _, name := range names {
		if !f.has(name) {
			t.Fatalf("%s added, and not in the filter", name)
		}
	}
	false_ := 0
	const tries = 100_000
	for range tries {
		if f.has(randomID(rng, 12)) { // never added: another length
			false_++
		}
	}
	if rate := float64(false_) / tries; rate > 0.03 {
		t.Errorf("%.2f%% false positives", 100*rate)
	}
	if got, want := f.bytes(), (64<<10+256<<10+1<<20)*idFilterBits/8; got != want {
		t.Errorf("%d bytes, want %d", got, want)
	}
	t.Logf("%d names, %d segments, %d bytes, %.2f%% false positives", n, len(f.segs), f.bytes(), 100*float64(false_)/tries)
}

// scanIDs makes the filter of ids of commit as the expiry scan does: every
// tree read through Entries between StartIDs and EndIDs.
func scanIDs(t *testing.T, r *Repo, commit plumbing.Hash) {
	t.Helper()
	root, err := r.Root(commit)
	if err != nil {
		t.Fatal(err)
	}
	scan := r.StartIDs(root)
	for trees := []plumbing.Hash{root}; len(trees) > 0; {
		es, err := r.Entries(trees[len(trees)-1])
		if err != nil {
			t.Fatal(err)
		}
		trees = trees[:len(trees)-1]
		for _, e := range es {
			if e.ID == "" {
				trees = append(trees, e.Hash)
			}
		}
	}
	r.EndIDs(scan, true)
	if n, _ := r.IDFilter(); n == 0 && !root.IsZero() {
		t.Fatal("no filter after the walk")
	}
}

// placeBoth returns placePaste's answer for id in commit with the filter
// and without it; they must be the same.
func placeBoth(t *testing.T, r *Repo, commit plumbing.Hash, id string) (string, error) {
	t.Helper()
	root, err := r.Root(commit)
	if err != nil {
		t.Fatal(err)
	}
	with, werr := r.placePaste(root, id)
	ids := r.ids
	r.ids = nil
	without, err := r.placePaste(root, id)
	r.ids = ids
	if with != without || errors.Is(werr, paste.ErrExists) != errors.Is(err, paste.ErrExists) || (werr == nil) != (err == nil) {
		t.Fatalf("%s: with the filter %q, %v; without %q, %v", id, with, werr, without, err)
	}
	return with, werr
}

// TestFreeWithIDFilter: the id checks answer with the filter as they do
// without it, for ids taken, free, committed since the filter was made,
// come by another way than this repository's commits (a fetched push),
// removed, and blocked by an original's file; and a free id is answered
// without reading its leaf.
func TestFreeWithIDFilter(t *testing.T) {
	r := open(t, "")
	rng := rand.New(rand.NewPCG(3, 4))
	taken := commitRandom(t, r, rng, 6)
	scanIDs(t, r, mustRef(t, r))

	free := func(id string) bool {
		t.Helper()
		_, err := placeBoth(t, r, mustRef(t, r), id)
		if err != nil && !errors.Is(err, paste.ErrExists) {
			t.Fatal(err)
		}
		return err == nil
	}
	for _, id := range taken {
		if free(id) {
			t.Fatalf("%s taken, and free", id)
		}
	}
	root, _ := r.Root(mustRef(t, r))
	shortcut := 0
	for range 200 {
		id := randomID(rng, 11)
		if !free(id) {
			t.Fatalf("%s free, and taken", id)
		}
		if r.surelyFree(root, id) {
			shortcut++
		}
	}
	if shortcut < 190 {
		t.Errorf("%d of 200 free ids answered by the filter", shortcut)
	}

	// Committed here: the filter moves with the commit, without a walk.
	mine := randomID(rng, 10)
	commit(t, r, &paste.Paste{ID: mine, Contents: []byte("mine")})
	if root, _ := r.Root(mustRef(t, r)); r.ids == nil || r.ids.root != root {
		t.Fatal("the filter did not move with the commit")
	}
	if free(mine) {
		t.Fatalf("%s committed, and free", mine)
	}

	// Come by another way (a fetched push of another server): a commit
	// the filter did not see made, on the tip, and on an older commit.
	foreign := func(parent plumbing.Hash, id string) plumbing.Hash {
		ids := r.ids
		r.ids = nil
		c, err := r.CommitPastes(parent, []*paste.Paste{{ID: id, Contents: []byte("theirs")}}, time.Now())
		r.ids = ids
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	theirs := randomID(rng, 10)
	tip := foreign(mustRef(t, r), theirs)
	if err := r.SetRef(master, tip); err != nil {
		t.Fatal(err)
	}
	if free(theirs) {
		t.Fatalf("%s fetched, and free", theirs)
	}
	older := randomID(rng, 10)
	side := foreign(mustRef(t, r), older) // a sibling history, as a remote's
	if _, err := placeBoth(t, r, side, older); !errors.Is(err, paste.ErrExists) {
		t.Fatalf("%s on another line: %v", older, err)
	}

	// Told by Added (a store's fetch): the filter moves on the way.
	third := randomID(rng, 10)
	from := mustRef(t, r)
	r.idsCover(mustTree(t, r, from))
	next := foreign(from, third)
	if err := r.Added(from, next, func(string, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if r.ids.root != mustTree(t, r, next) || !r.ids.has(third) {
		t.Fatal("Added did not move the filter")
	}
	if err := r.SetRef(master, next); err != nil {
		t.Fatal(err)
	}

	// Removed: a tombstone stays at the path, the id taken.
	gone := taken[0]
	tomb := paste.MarshalTombstone(paste.Deleted, time.Now())
	rm, err := r.CommitRemovals(mustRef(t, r), []Removal{{ID: gone, Why: paste.Deleted, Tombstone: tomb}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(master, rm); err != nil {
		t.Fatal(err)
	}
	if free(gone) {
		t.Fatalf("%s removed, and free", gone)
	}

	// A file gone from the tree stays in the filter: a "maybe" that the
	// walk answers.
	dropped := taken[1]
	rootNow := mustTree(t, r, mustRef(t, r))
	p, _, err := r.Locate(mustRef(t, r), dropped)
	if err != nil {
		t.Fatal(err)
	}
	without := withoutFile(t, r, rootNow, p)
	c, err := r.putCommit(&object.Commit{TreeHash: without, ParentHashes: []plumbing.Hash{mustRef(t, r)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(master, c); err != nil {
		t.Fatal(err)
	}
	if !free(dropped) { // placeBoth: the same answer as without the filter
		t.Fatalf("%s deleted from the tree, and taken", dropped)
	}
	if !r.ids.has(dropped) {
		t.Fatalf("%s left the filter", dropped)
	}

	// An original's file "Q" at the root blocks Q's directory: the
	// filter leaves it to placePaste.
	blob, err := r.putBlob([]byte("original"))
	if err != nil {
		t.Fatal(err)
	}
	withQ, err := r.addFiles(mustTree(t, r, mustRef(t, r)), []file{{path: "Q", hash: blob, mode: filemode.Regular}})
	if err != nil {
		t.Fatal(err)
	}
	qc, err := r.putCommit(&object.Commit{TreeHash: withQ, ParentHashes: []plumbing.Hash{mustRef(t, r)}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		id := fmt.Sprintf("Q%d%s", i, randomID(rng, 8))
		if place, err := placeBoth(t, r, qc, id); err != nil || place == "" {
			t.Fatalf("%s under the file Q: %q, %v", id, place, err)
		}
	}
}

// withoutFile returns tree root less the file at path.
func withoutFile(t *testing.T, r *Repo, root plumbing.Hash, path string) plumbing.Hash {
	t.Helper()
	tree, err := r.tree(root)
	if err != nil {
		t.Fatal(err)
	}
	name, rest, nested := strings.Cut(path, "/")
	var entries []object.TreeEntry
	for _, e := range tree.Entries {
		switch {
		case e.Name != name:
		case nested:
			e.Hash = withoutFile(t, r, e.Hash, rest)
		default:
			continue
		}
		entries = append(entries, e)
	}
	h, err := r.putTree(root, entries)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestIDFilterOverlappingScans: a scan that starts while another runs
// (the sweeper's first scan and a completion's) takes the filter being
// made; the first, ending, must not install the second's, which lacks
// the names of the trees the first read before the second began.
func TestIDFilterOverlappingScans(t *testing.T) {
	r := open(t, "")
	rng := rand.New(rand.NewPCG(5, 6))
	taken := commitRandom(t, r, rng, 6)
	root, err := r.Root(mustRef(t, r))
	if err != nil {
		t.Fatal(err)
	}
	var trees []plumbing.Hash
	for next := []plumbing.Hash{root}; len(next) > 0; {
		h := next[len(next)-1]
		next = next[:len(next)-1]
		trees = append(trees, h)
		es, err := r.Entries(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.ID == "" {
				next = append(next, e.Hash)
			}
		}
	}
	read := func(hs []plumbing.Hash) {
		for _, h := range hs {
			if _, err := r.Entries(h); err != nil {
				t.Fatal(err)
			}
		}
	}
	half := len(trees) / 2
	first := r.StartIDs(root)
	read(trees[:half])
	second := r.StartIDs(root) // another scan begins
	read(trees[half:])
	r.EndIDs(first, true) // the first has read every tree
	for _, id := range taken {
		if _, err := placeBoth(t, r, mustRef(t, r), id); !errors.Is(err, paste.ErrExists) {
			t.Fatalf("%s taken: %v", id, err)
		}
	}
	read(trees[:half]) // the second reads the rest
	r.EndIDs(second, true)
	for _, id := range taken {
		if _, err := placeBoth(t, r, mustRef(t, r), id); !errors.Is(err, paste.ErrExists) {
			t.Fatalf("%s taken: %v", id, err)
		}
	}
}

// TestIDFilterDropped: a move of the filter through a tree missing drops
// it and signals IDsLost once; without it every id check walks, and
// refuses the taken ids; a scan makes it again.
func TestIDFilterDropped(t *testing.T) {
	r := open(t, "")
	rng := rand.New(rand.NewPCG(7, 8))
	taken := commitRandom(t, r, rng, 4)
	scanIDs(t, r, mustRef(t, r))
	if !r.HasIDFilter() {
		t.Fatal("no filter after a scan")
	}
	select {
	case <-r.IDsLost():
		t.Fatal("IDsLost signalled with the filter in use")
	default:
	}

	// A root none of whose trees is here: the move fails.
	if r.idsCover(plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")) {
		t.Fatal("the filter moved to a tree missing")
	}
	if r.HasIDFilter() {
		t.Fatal("the filter kept after a move that failed")
	}
	select {
	case <-r.IDsLost():
	default:
		t.Fatal("IDsLost not signalled")
	}
	r.DropIDs() // none in use: no second signal
	select {
	case <-r.IDsLost():
		t.Fatal("IDsLost signalled without a filter to drop")
	default:
	}
	for _, id := range taken[:50] {
		if _, err := placeBoth(t, r, mustRef(t, r), id); !errors.Is(err, paste.ErrExists) {
			t.Fatalf("%s taken, without the filter: %v", id, err)
		}
	}

	// Made again by a walk: the ids committed meanwhile are in it too.
	mine := randomID(rng, 10)
	commit(t, r, &paste.Paste{ID: mine, Contents: []byte("mine")})
	scanIDs(t, r, mustRef(t, r))
	if !r.HasIDFilter() {
		t.Fatal("no filter after the scan again")
	}
	for _, id := range append(taken, mine) {
		if _, err := placeBoth(t, r, mustRef(t, r), id); !errors.Is(err, paste.ErrExists) {
			t.Fatalf("%s taken, with the filter made again: %v", id, err)
		}
	}
}

// commitRandom makes n commits of 50 pastes each, their ids random ones
// of 10 characters, and returns the ids.
func commitRandom(t *testing.T, r *Repo, rng *rand.Rand, n int) []string {
	t.Helper()
	var taken []string
	for range n {
		var group []*paste.Paste
		for range 50 {
			id := randomID(rng, 10)
			taken = append(taken, id)
			group = append(group, &paste.Paste{ID: id, Contents: []byte(id)})
		}
		commit(t, r, group...)
	}
	return taken
}

// A commit made before the branch moves to it (the commit behind the
// write-ahead log writes its pack first): the checks against the branch
// in the meantime are answered by the filter, without moving it back.
func TestIDFilterCoversTheCommitsParent(t *testing.T) {
	r := open(t, "")
	rng := rand.New(rand.NewPCG(5, 6))
	commitRandom(t, r, rng, 6)
	scanIDs(t, r, mustRef(t, r))
	parent := mustRef(t, r)
	before, _ := r.Root(parent)
	mine := randomID(rng, 10)
	c, err := r.CommitPastes(parent, []*paste.Paste{{ID: mine, Contents: []byte("mine")}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	after, _ := r.Root(c)
	if r.ids == nil || r.ids.root != after {
		t.Fatal("the filter did not move with the commit")
	}
	id := randomID(rng, 11)
	if !r.surelyFree(before, id) {
		t.Fatalf("%s: the filter does not answer for the commit's parent", id)
	}
	if r.ids.root != after {
		t.Fatal("a check against the parent moved the filter back")
	}
	if r.surelyFree(after, mine) || r.surelyFree(before, mine) {
		t.Fatalf("%s committed, and surely free", mine)
	}
}
