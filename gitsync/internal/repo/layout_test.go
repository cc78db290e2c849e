package repo

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// checkTrees walks the tree of the branch's tip and fails on a tree that
// breaks the adaptive layout's bound: more than leafMax entries besides
// one-character directories and the paste named by the tree's prefix. It
// returns every paste id found with its path, and the deepest leaf.
func checkTrees(t *testing.T, r *Repo) (map[string]string, int) {
	t.Helper()
	tip, _ := r.Ref(master)
	root, _ := r.treeOf(tip)
	found := map[string]string{}
	deepest := 0
	var walk func(h plumbing.Hash, prefix string, depth int)
	walk = func(h plumbing.Hash, prefix string, depth int) {
		tr, err := r.tree(h)
		if err != nil {
			t.Fatal(err)
		}
		files := 0
		for _, e := range tr.Entries {
			if e.Mode == filemode.Dir {
				walk(e.Hash, prefix+e.Name+"/", depth+1)
				continue
			}
			if prev, ok := found[e.Name]; ok {
				t.Errorf("%s at %s and %s", e.Name, prev, prefix+e.Name)
			}
			found[e.Name] = prefix + e.Name
			if len(e.Name) > depth {
				files++
			}
			deepest = max(deepest, depth)
		}
		if files > leafMax {
			t.Errorf("%s: %d pastes, bound %d", prefix, files, leafMax)
		}
	}
	walk(root, "", 0)
	return found, deepest
}

// TestAdaptiveSplit: leaves split past leafMax, down to where the ids
// part; every paste stays found, once, and taken.
func TestAdaptiveSplit(t *testing.T) {
	r := open(t, "")
	rng := rand.New(rand.NewPCG(1, 2))
	var ids []string
	// Ids that share long prefixes split deep; random ones shallow; short
	// ones stay files of split trees.
	for i := range 600 {
		var id string
		switch i % 3 {
		case 0:
			id = fmt.Sprintf("abc%05d", i)
		case 1:
			id = randomID(rng, 13)
		default:
			id = "ab" + randomID(rng, 1+i%3)
		}
		if r.Free(mustRef(t, r), id) != nil {
			continue
		}
		ids = append(ids, id)
	}
	for i := 0; i < len(ids); {
		n := min(1+i%7, len(ids)-i) // groups of 1 to 7
		var group []*paste.Paste
		for _, id := range ids[i : i+n] {
			group = append(group, &paste.Paste{ID: id, Contents: []byte("c " + id)})
		}
		commit(t, r, group...)
		i += n
	}
	found, deepest := checkTrees(t, r)
	if deepest < 4 {
		t.Errorf("deepest leaf at %d: the prefixes did not split", deepest)
	}
	tip := mustRef(t, r)
	for _, id := range ids {
		if !isPastePath(found[id], id) {
			t.Errorf("%s at %q", id, found[id])
		}
		if data, err := r.Find(tip, id); err != nil || !strings.Contains(string(data), "c "+id) {
			t.Errorf("Find %s: %q %v", id, data, err)
		}
		if err := r.Free(tip, id); !errors.Is(err, paste.ErrExists) {
			t.Errorf("Free %s: %v", id, err)
		}
	}
	if len(found) != len(ids) {
		t.Errorf("%d files, %d pastes", len(found), len(ids))
	}
}

// TestAdaptiveOldLeaves: a repository written before leaves split, with a
// leaf of ID[0]/ID[1]/ID past the bound and older layouts around it,
// stays readable; the next paste there splits the leaf.
func TestAdaptiveOldLeaves(t *testing.T) {
	gittest.Require(t)
	dir := t.TempDir()
	r := open(t, dir)
	files := map[string]string{"q": `{"contents":"q","encrypted":false}`, "kz": `{"contents":"kz","encrypted":false}`}
	var ids []string
	for i := range leafMax + 10 {
		id := fmt.Sprintf("kx%03d", i)
		ids = append(ids, id)
		files[shardPath(id)] = fmt.Sprintf(`{"contents":"%s","encrypted":false}`, id)
	}
	files["kx/kxold"] = `{"contents":"kxold","encrypted":false}` // ID[0:2]/ID
	writeOriginal(t, r, files)
	commit(t, r, &paste.Paste{ID: "kxnew", Contents: []byte("kxnew")})
	found, deepest := checkTrees(t, r)
	if deepest != 4 || found["kx001"] != "k/x/0/0/kx001" || found["kxnew"] != "k/x/n/kxnew" {
		t.Errorf("deepest %d, kx001 at %s, kxnew at %s", deepest, found["kx001"], found["kxnew"])
	}
	tip := mustRef(t, r)
	for _, id := range append(ids, "q", "kz", "kxold", "kxnew") {
		if data, err := r.Find(tip, id); err != nil || !strings.Contains(string(data), `"`+id+`"`) {
			t.Errorf("Find %s: %q %v", id, data, err)
		}
	}
	r.Close()
	gittest.Git(t, dir, "fsck", "--strict")
}

// TestReplaySplit: commits replayed onto a line whose leaves split
// otherwise keep every paste once, by id; pastes a split moved are not
// copied again.
func TestReplaySplit(t *testing.T) {
	r := open(t, "")
	var seed []*paste.Paste
	for i := range leafMax - 2 {
		seed = append(seed, &paste.Paste{ID: fmt.Sprintf("mm%03d", i), Contents: []byte("seed")})
	}
	base := commit(t, r, seed...)
	// Mine split the leaf m/m; theirs did too, with other pastes.
	var mine, theirs []*paste.Paste
	for i := range 5 {
		mine = append(mine, &paste.Paste{ID: fmt.Sprintf("mmine%d", i), Contents: []byte("mine")})
		theirs = append(theirs, &paste.Paste{ID: fmt.Sprintf("mmtheirs%d", i), Contents: []byte("theirs")})
	}
	mineTip := commit(t, r, mine...)
	theirsTip, err := r.CommitPastes(base, theirs[:1], time.Now()) // no split yet
	if err != nil {
		t.Fatal(err)
	}
	tip, err := r.Replay(mineTip, base, theirsTip, slogDiscard)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(master, tip); err != nil {
		t.Fatal(err)
	}
	found, _ := checkTrees(t, r)
	if len(found) != len(seed)+len(mine)+1 {
		t.Errorf("%d files, want %d", len(found), len(seed)+len(mine)+1)
	}
	for _, p := range append(append(seed, mine...), theirs[0]) {
		if _, err := r.Find(tip, p.ID); err != nil {
			t.Errorf("%s: %v", p.ID, err)
		}
	}
}

func TestIsPastePath(t *testing.T) {
	for _, c := range []struct {
		path, id string
		want     bool
	}{
		{"a/b/abc", "abc", true},
		{"a/b/c/abc", "abc", true},
		{"a/b/c/d/abc", "abc", false},
		{"a/abc", "abc", false},
		{"ab/abc", "abc", true},
		{"abc", "abc", true},
		{"_/a", "a", true},
		{"a/a", "a", true},
		{"a/c/abc", "abc", false},
		{"a/b/ab", "ab", true},
		{"docs/README", "README", false},
		{"a//b/abc", "abc", false},
	} {
		if got := isPastePath(c.path, c.id); got != c.want {
			t.Errorf("isPastePath(%q, %q) = %v", c.path, c.id, got)
		}
	}
}

func mustRef(t *testing.T, r *Repo) plumbing.Hash {
	t.Helper()
	h, err := r.Ref(master)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func randomID(rng *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// FuzzAdaptiveLayout: whatever ids arrive, in whatever groups, each is
// found once, taken, at a path of its id, and no tree passes the bound.
func FuzzAdaptiveLayout(f *testing.F) {
	f.Add("abc abd abe a b _ _a _ab ab-c ZZ", uint8(3))
	f.Add(strings.Repeat("xyz ", 3)+"x xy xyz0 xyz1", uint8(1))
	f.Fuzz(func(t *testing.T, list string, group uint8) {
		r := open(t, "")
		var ids []string
		seen := map[string]bool{}
		for _, id := range strings.Fields(list) {
			if paste.ValidID(id) && !seen[id] && len(ids) < 300 {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		// Many pastes under one prefix, to split.
		for i := range 2 * leafMax {
			ids = append(ids, fmt.Sprintf("fz%d", i))
		}
		n := 1 + int(group%8)
		var ok []string
		for i := 0; i < len(ids); i += n {
			var g []*paste.Paste
			for _, id := range ids[i:min(i+n, len(ids))] {
				g = append(g, &paste.Paste{ID: id, Contents: []byte(id)})
			}
			parent := mustRef(t, r)
			tip, err := r.CommitPastes(parent, g, time.Now())
			if err != nil {
				continue // a blocked path: the group is refused, nothing written
			}
			if err := r.SetRef(master, tip); err != nil {
				t.Fatal(err)
			}
			for _, p := range g {
				ok = append(ok, p.ID)
			}
		}
		found, _ := checkTrees(t, r)
		tip := mustRef(t, r)
		for _, id := range ok {
			if !isPastePath(found[id], id) {
				t.Errorf("%s at %q", id, found[id])
			}
			if data, err := r.Find(tip, id); err != nil || !strings.Contains(string(data), `"`+id+`"`) {
				t.Errorf("Find %s: %q %v", id, data, err)
			}
		}
	})
}

// TestReplayPackHasBlobs: a commit replayed onto the remote's tip, then
// flushed, reuses the blob of the commit it copies; the pack that pushes
// it must carry that blob, which the last flush did not write.
func TestReplayPackHasBlobs(t *testing.T) {
	r := open(t, "")
	base := commit(t, r, &paste.Paste{ID: "base", Contents: []byte("0")})
	// Enough trees that the replay's flush is a pack (looseMax).
	mine := commit(t, r, &paste.Paste{ID: "mine", Contents: []byte("mine")},
		&paste.Paste{ID: "xa", Contents: []byte("x")}, &paste.Paste{ID: "ya", Contents: []byte("y")},
		&paste.Paste{ID: "za", Contents: []byte("z")})
	theirs, err := r.CommitPastes(base, []*paste.Paste{{ID: "theirs", Contents: []byte("theirs")}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(plumbing.NewRemoteReferenceName("origin", "master"), theirs); err != nil {
		t.Fatal(err)
	}
	tip, err := r.Replay(mine, base, theirs, slogDiscard)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(master, tip); err != nil { // flushes the replay
		t.Fatal(err)
	}
	pack, err := r.PackFor(tip, theirs, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	objs, _, err := indexPack(bytes.NewReader(pack), fuzzLimits, int64(len(pack)), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, ok, _ := r.locate(mustTree(t, r, tip), "mine")
	if !ok {
		t.Fatal("mine not replayed")
	}
	for _, o := range objs {
		if o.hash == e.Hash {
			return
		}
	}
	t.Errorf("the pack of the replayed commit lacks its blob %s (%d objects)", e.Hash, len(objs))
}

// TestReplayTombstoneSplit: a removal replayed onto a line where the
// paste's leaf split lands where the paste is there, once.
func TestReplayTombstoneSplit(t *testing.T) {
	r := open(t, "")
	var seed []*paste.Paste
	for i := range leafMax - 2 {
		seed = append(seed, &paste.Paste{ID: fmt.Sprintf("mm%03d", i), Contents: []byte("seed")})
	}
	base := commit(t, r, seed...)
	mine, err := r.CommitRemovals(base, []Removal{{ID: "mm001", Why: paste.Deleted,
		Tombstone: paste.MarshalTombstone(paste.Deleted, time.Now())}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var more []*paste.Paste
	for i := range 5 {
		more = append(more, &paste.Paste{ID: fmt.Sprintf("mmore%d", i), Contents: []byte("more")})
	}
	theirs, err := r.CommitPastes(base, more, time.Now()) // splits m/m
	if err != nil {
		t.Fatal(err)
	}
	tip, err := r.Replay(mine, base, theirs, slogDiscard)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(master, tip); err != nil {
		t.Fatal(err)
	}
	found, _ := checkTrees(t, r)
	if found["mm001"] != "m/m/0/mm001" || len(found) != len(seed)+len(more) {
		t.Errorf("mm001 at %q, %d files", found["mm001"], len(found))
	}
	data, err := r.Find(tip, "mm001")
	if _, gone := paste.IsTombstone(data); err != nil || !gone {
		t.Errorf("mm001 after the replay: %q %v, want its tombstone", data, err)
	}
}
