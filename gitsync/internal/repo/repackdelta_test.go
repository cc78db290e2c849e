package repo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
)

// wholeTreeFixture is a repository on disk whose packs hold every tree
// whole (packs written without deltas, as a completion's steps send the
// trees whose newer versions are in another step), repacked into one.
func wholeTreeFixture(t *testing.T, commits int) (dir string, r *Repo, objects []plumbing.Hash) {
	src, pack := growingHistory(t, commits)
	third := commits / 3
	revs := []string{
		"master~" + strconv.Itoa(2*third) + "\n",
		"master~" + strconv.Itoa(third) + "\n^master~" + strconv.Itoa(2*third) + "\n",
		"master\n^master~" + strconv.Itoa(third) + "\n",
	}
	dir = filepath.Join(t.TempDir(), "r.git")
	r = open(t, dir)
	when := time.Now().Add(-time.Hour)
	// Newest first, as a completion fetches them.
	for i := len(revs) - 1; i >= 0; i-- {
		in, err := r.ReceiveThin(bytes.NewReader(pack(revs[i], "--window=0", "--no-reuse-delta")), r.Object)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Add(in); err != nil {
			t.Fatal(err)
		}
		when = when.Add(time.Minute)
		if err := os.Chtimes(filepath.Join(dir, r.packPath(in.sum)+".pack"), when, when); err != nil {
			t.Fatal(err)
		}
	}
	tip := plumbing.NewHash(strings.TrimSpace(gittest.Git(t, src, "rev-parse", "master")))
	if err := r.SetRef(master, tip); err != nil {
		t.Fatal(err)
	}
	rp := repack(t, r)
	if err := errors.Join(rp.Finish(), rp.Sync()); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(gittest.Git(t, dir, "rev-list", "--objects", "master")), "\n") {
		objects = append(objects, plumbing.NewHash(line[:40]))
	}
	return dir, r, objects
}

// packShape is what git verify-pack -v says of the one pack of dir: the
// trees stored whole, the deltas, and the longest chain.
func packShape(t *testing.T, dir string) (whole, deltas, longest int) {
	t.Helper()
	idx, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
	if len(idx) != 1 {
		t.Fatalf("%d packs", len(idx))
	}
	for _, line := range strings.Split(gittest.Git(t, dir, "verify-pack", "-v", idx[0]), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 5 && f[1] == "tree":
			whole++
		case len(f) == 7:
			deltas++
			if d, _ := strconv.Atoi(f[5]); d > longest {
				longest = d
			}
		}
	}
	return whole, deltas, longest
}

func deltifyTrees(t *testing.T, r *Repo) RepackStats {
	t.Helper()
	rp, err := r.PlanTreeDeltas()
	if err != nil || rp == nil {
		t.Fatalf("plan: %v, %v", rp, err)
	}
	if err := rp.Write(context.Background()); err != nil {
		rp.Discard()
		t.Fatal(err)
	}
	if err := errors.Join(rp.Finish(), rp.Sync()); err != nil {
		t.Fatal(err)
	}
	return rp.Stats
}

// checkGoGit reads every object of dir through go-git's own reader.
func checkGoGit(t *testing.T, dir string, objects []plumbing.Hash) {
	t.Helper()
	st := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	defer st.Close()
	for _, h := range objects {
		o, err := st.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			t.Fatalf("go-git: object %s: %v", h, err)
		}
		data, err := contents(o)
		if err != nil {
			t.Fatalf("go-git: object %s: %v", h, err)
		}
		if plumbing.ComputeHash(o.Type(), data) != h {
			t.Fatalf("go-git: object %s reads as another", h)
		}
	}
}

// TestTreeDeltas: trees stored whole become deltas against the versions
// at their path, chains stay within git's depth, every object reads back
// identical through pasteur's reader and go-git's, before and after the
// repository is opened again, and git's fsck and verify-pack pass, with
// git's own index and reverse index.
func TestTreeDeltas(t *testing.T) {
	// 150 commits: the chain of one path's versions passes 50.
	dir, r, objects := wholeTreeFixture(t, 150)
	whole, deltas, _ := packShape(t, dir)
	if deltas != 0 || whole < 300 {
		t.Fatalf("fixture: %d whole trees, %d deltas", whole, deltas)
	}
	st := deltifyTrees(t, r)
	t.Logf("%+v", st)
	whole2, deltas2, longest := packShape(t, dir)
	t.Logf("whole trees %d -> %d, deltas %d, longest chain %d", whole, whole2, deltas2, longest)
	// d/ in each commit becomes a delta but for one in 51; the root's
	// two entries both change each commit: no base is found for it.
	if int64(deltas2) != st.TreeDeltas || whole2 > whole/2+10 || longest > treeDeltaDepth || longest < treeDeltaDepth-5 {
		t.Errorf("after: %d whole trees, %d deltas, longest chain %d; stats %+v", whole2, deltas2, longest, st)
	}
	if st.After >= st.Before || st.TreeBytes <= 0 {
		t.Errorf("stats %+v", st)
	}
	checkRepo(t, dir, r, objects)
	checkGoGit(t, dir, objects)
	idx, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
	base := strings.TrimSuffix(idx[0], ".idx")
	tmp := t.TempDir()
	gittest.Git(t, dir, "index-pack", "--rev-index", "-o", filepath.Join(tmp, "x.idx"), base+".pack")
	for _, ext := range []string{".idx", ".rev"} {
		ours, _ := os.ReadFile(base + ext)
		theirs, _ := os.ReadFile(filepath.Join(tmp, "x"+ext))
		if !bytes.Equal(ours, theirs) {
			t.Errorf("%s differs from git's", ext)
		}
	}
	r.Close()
	r = open(t, dir)
	checkRepo(t, dir, r, objects)
	// Again: little left to gain (a tree whose chain no longer holds
	// back as deep).
	if st := deltifyTrees(t, r); st.TreeDeltas > 2 {
		t.Errorf("a second pass: %+v", st)
	}
	checkRepo(t, dir, r, objects)
}

// TestTreeDeltasOverDeltas: a pack whose deltas git made (against whole
// trees, thin bases, copies dropped) keeps its chains within git's depth
// when the trees under them become deltas too.
func TestTreeDeltasOverDeltas(t *testing.T) {
	dir, r, objects := repackFixture(t)
	rp := repack(t, r)
	if err := errors.Join(rp.Finish(), rp.Sync()); err != nil {
		t.Fatal(err)
	}
	st := deltifyTrees(t, r)
	t.Logf("%+v", st)
	if _, _, longest := packShape(t, dir); longest > treeDeltaDepth {
		t.Errorf("a chain of %d", longest)
	}
	checkRepo(t, dir, r, objects)
	checkGoGit(t, dir, objects)
}

// TestTreeDeltasCrash: cut before its pack is installed, or between
// Finish and Sync, the rewrite leaves a repository that reads every
// object.
func TestTreeDeltasCrash(t *testing.T) {
	for _, cut := range []string{"write", "installed", "deleting"} {
		t.Run(cut, func(t *testing.T) {
			dir, r, objects := wholeTreeFixture(t, 30)
			rp, err := r.PlanTreeDeltas()
			if err != nil || rp == nil {
				t.Fatal(rp, err)
			}
			switch cut {
			case "write":
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				if err := rp.Write(ctx); err == nil {
					t.Fatal("a cancelled rewrite went on")
				}
				rp.Discard()
			case "installed":
				if err := rp.Write(context.Background()); err != nil {
					t.Fatal(err)
				}
				rp.Discard()
			case "deleting":
				if err := rp.Write(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := rp.Finish(); err != nil {
					t.Fatal(err)
				}
			}
			r.Close()
			r = open(t, dir)
			if tmp, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "tmp_*")); len(tmp) > 0 {
				t.Fatalf("temporary files left after open: %v", tmp)
			}
			checkRepo(t, dir, r, objects)
		})
	}
}

// FuzzTreeKeys: the sketch of a tree is taken from whatever bytes a pack
// holds, never reading past them.
func FuzzTreeKeys(f *testing.F) {
	f.Add([]byte("100644 a\x00aaaaaaaaaaaaaaaaaaaa40000 d\x00bbbbbbbbbbbbbbbbbbbb"))
	f.Add([]byte("100644 a\x00short"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, ok := treeKeys(b)
		if ok && (len(keys) < 1 || len(keys) > treeSketch+2) {
			t.Fatalf("keys %x", keys)
		}
		for i := 1; i < min(len(keys), treeSketch); i++ {
			if keys[i-1] >= keys[i] && i < len(keys)-2 {
				t.Fatalf("keys %x out of order", keys)
			}
		}
	})
}

// FuzzTreeDelta: a tree delta makes its target from its base, whatever
// the two trees hold (entries out of order, repeated, changed).
func FuzzTreeDelta(f *testing.F) {
	e := func(mode, name string, h byte) string {
		return mode + " " + name + "\x00" + strings.Repeat(string(rune(h)), 20)
	}
	a, b, c := e("100644", "a", 1), e("40000", "b", 2), e("100644", "c", 3)
	f.Add([]byte(a+b+c), []byte(a+c))
	f.Add([]byte(a+c), []byte(a+b+c))
	f.Add([]byte(a+b), []byte(e("100644", "a", 9)+b))
	f.Add([]byte(c+a), []byte(a+c+a))
	f.Add([]byte(""), []byte(a))
	f.Add([]byte(a+"x"), []byte(a))
	f.Fuzz(func(t *testing.T, base, tgt []byte) {
		delta, ok := treeDelta(nil, base, tgt)
		if !ok {
			return
		}
		got, err := patch(base, delta)
		if err != nil || !bytes.Equal(got, tgt) {
			t.Fatalf("patched: %q, %v; want %q", got, err, tgt)
		}
	})
}
