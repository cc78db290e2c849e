package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// repackFixture is a repository on disk whose packs hold copies: a pack
// of the old history, a whole pack of a later part of it (which holds the
// old objects again, and deltas against them), a thin pack completed
// with bases it lacked (appended whole: copies again), and pastes
// pasteur committed on top; and the names of every object.
func repackFixture(t *testing.T) (dir string, r *Repo, objects []plumbing.Hash) {
	src, pack := growingHistory(t, 60)
	packs := [][]byte{pack("master~40\n"), pack("master~20\n"), pack("master\n^master~20\n", "--thin")}
	dir = filepath.Join(t.TempDir(), "r.git")
	r = open(t, dir)
	when := time.Now().Add(-time.Hour)
	for _, p := range packs {
		in, err := r.ReceiveThin(bytes.NewReader(p), r.Object)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Add(in); err != nil {
			t.Fatal(err)
		}
		// In the order they came, whatever the clock's resolution.
		when = when.Add(time.Minute)
		name := r.packPath(in.sum)
		if err := os.Chtimes(filepath.Join(dir, name+".pack"), when, when); err != nil {
			t.Fatal(err)
		}
	}
	tip := plumbing.NewHash(strings.TrimSpace(gittest.Git(t, src, "rev-parse", "master")))
	if err := r.SetRef(master, tip); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		commit(t, r, &paste.Paste{ID: fmt.Sprintf("repack%d", i), Contents: []byte(fmt.Sprintf("paste %d", i)), Created: time.Unix(1700000000, 0)})
	}
	if err := r.mergeSmall(); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(gittest.Git(t, dir, "rev-list", "--objects", "master")), "\n") {
		objects = append(objects, plumbing.NewHash(line[:40]))
	}
	return dir, r, objects
}

// checkRepo checks that every object reads back, and that git finds the
// repository and each pack sound.
func checkRepo(t *testing.T, dir string, r *Repo, objects []plumbing.Hash) {
	t.Helper()
	for _, h := range objects {
		typ, data, err := r.Object(h)
		if err != nil {
			t.Fatalf("object %s: %v", h, err)
		}
		if plumbing.ComputeHash(typ, data) != h {
			t.Fatalf("object %s reads as another", h)
		}
	}
	gittest.Git(t, dir, "fsck", "--strict", "--no-dangling")
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
	for _, p := range packs {
		gittest.Git(t, dir, "verify-pack", p)
	}
}

func packCount(t *testing.T, dir string) int {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	return len(packs)
}

func repack(t *testing.T, r *Repo) *Repacking {
	t.Helper()
	rp, err := r.PlanRepack(1, false)
	if err != nil || rp == nil {
		t.Fatalf("plan: %v, %v", rp, err)
	}
	if err := rp.Write(context.Background()); err != nil {
		rp.Discard()
		t.Fatal(err)
	}
	return rp
}

// TestRepack: packs with copies of the same objects (a thin pack's bases,
// a whole pack over an older one) become one pack that holds each object
// once, with deltas against the copies kept; every object reads back,
// before and after the repository is opened again, git's fsck and
// verify-pack pass, and git's own reverse index is the one written.
func TestRepack(t *testing.T) {
	dir, r, objects := repackFixture(t)
	if n := packCount(t, dir); n != 4 {
		t.Fatalf("%d packs before", n)
	}
	checkRepo(t, dir, r, objects)
	rp := repack(t, r)
	if err := errors.Join(rp.Finish(), rp.Sync()); err != nil {
		t.Fatal(err)
	}
	st := rp.Stats
	t.Logf("%+v", st)
	if st.Packs != 4 || st.Dropped == 0 || st.Rebased == 0 || st.Objects != int64(len(objects)) || st.After >= st.Before {
		t.Errorf("stats %+v for %d objects", st, len(objects))
	}
	if n := packCount(t, dir); n != 1 {
		t.Fatalf("%d packs after", n)
	}
	checkRepo(t, dir, r, objects)
	// The index and reverse index are git's, byte for byte.
	base := filepath.Join(dir, "objects", "pack", "pack-"+rp.sum.String())
	tmp := t.TempDir()
	gittest.Git(t, dir, "index-pack", "--rev-index", "-o", filepath.Join(tmp, "x.idx"), base+".pack")
	for _, ext := range []string{".idx", ".rev"} {
		ours, err := os.ReadFile(base + ext)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.ReadFile(filepath.Join(tmp, "x"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, theirs) {
			t.Errorf("%s differs from git's", ext)
		}
	}
	r.Close()
	r = open(t, dir)
	checkRepo(t, dir, r, objects)
	r.Close() // one Repo at a time has the directory
	// A repack of one pack is none.
	if rp, err := open(t, dir).PlanRepack(1, false); rp != nil || err != nil {
		t.Fatalf("a repack of one pack: %v, %v", rp, err)
	}
}

// TestRepackCrash: a repack cut at each of its steps leaves a repository
// that reads every object, and the next repack ends with one pack.
func TestRepackCrash(t *testing.T) {
	for _, cut := range []string{"write", "installed", "deleting"} {
		// Each ends with files a crash leaves: the next open and repack
		// clean them.
		t.Run(cut, func(t *testing.T) {
			dir, r, objects := repackFixture(t)
			rp, err := r.PlanRepack(1, false)
			if err != nil {
				t.Fatal(err)
			}
			switch cut {
			case "write": // killed while writing: temporary files
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				if err := rp.Write(ctx); err == nil {
					t.Fatal("a cancelled repack went on")
				}
				rp.Discard()
				for _, name := range []string{"tmp_pack_repack_1", "tmp_idx_repack_1", "tmp_pack_repack_rev_1"} {
					if err := os.WriteFile(filepath.Join(dir, "objects", "pack", name), []byte("PACK"), 0o444); err != nil {
						t.Fatal(err)
					}
				}
			case "installed": // killed between the new pack and the deletions
				if err := rp.Write(context.Background()); err != nil {
					t.Fatal(err)
				}
				rp.Discard()
			case "deleting": // killed between Finish and Sync
				if err := rp.Write(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := rp.Finish(); err != nil {
					t.Fatal(err)
				}
				if len(rp.gone) == 0 {
					t.Fatal("nothing to delete")
				}
			}
			r.Close()
			r = open(t, dir)
			if tmp, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "tmp_*")); len(tmp) > 0 {
				t.Fatalf("temporary files left after open: %v", tmp)
			}
			checkRepo(t, dir, r, objects)
			// The next repack (none when one pack is left: the packs
			// without an index are removed then).
			next, err := r.PlanRepack(1, false)
			if err != nil {
				t.Fatal(err)
			}
			if next != nil {
				if err := next.Write(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := errors.Join(next.Finish(), next.Sync()); err != nil {
					t.Fatal(err)
				}
			}
			if n := packCount(t, dir); n != 1 {
				t.Fatalf("%d packs after the next repack", n)
			}
			checkRepo(t, dir, r, objects)
		})
	}
}

// TestRepackLeavesStaged: the packs that flush and Staged wrote since the
// last merge are not repacked, and writes go on while a repack is
// written, between its steps.
func TestRepackLeavesStaged(t *testing.T) {
	dir, r, objects := repackFixture(t)
	commit(t, r, &paste.Paste{ID: "flushed", Contents: []byte("flushed, not merged"), Created: time.Unix(1700000000, 0)})
	parent, err := r.Ref(master)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := r.CommitPastes(parent, []*paste.Paste{{ID: "staged", Contents: []byte("staged"), Created: time.Unix(1700000000, 0)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	stage, err := r.Stage(master, tip)
	if err != nil {
		t.Fatal(err)
	}
	if err := stage.Write(); err != nil {
		t.Fatal(err)
	}
	rp := repack(t, r)
	if err := stage.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := stage.Sync(); err != nil {
		t.Fatal(err)
	}
	// A paste between Write and Finish.
	commit(t, r, &paste.Paste{ID: "during", Contents: []byte("during the repack"), Created: time.Unix(1700000000, 0)})
	if err := errors.Join(rp.Finish(), rp.Sync()); err != nil {
		t.Fatal(err)
	}
	tip, err = r.Ref(master)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"flushed", "staged", "during", "repack0"} {
		if _, err := r.Find(tip, id); err != nil {
			t.Fatalf("paste %s: %v", id, err)
		}
	}
	if err := r.mergeSmall(); err != nil {
		t.Fatal(err)
	}
	checkRepo(t, dir, r, objects)
}

// FuzzEntryHead: the header of a pack entry as a repack reads it (packs
// that came from the network, indexed since) never panics, stays within
// what it was given, and an OFS_DELTA's distance reads back as
// appendOfsDelta writes it.
func FuzzEntryHead(f *testing.F) {
	f.Add([]byte{0x35, 0x78, 0x01})                   // a blob of 5 bytes
	f.Add([]byte{0xe5, 0x01, 0x81, 0x00, 0x78})       // an OFS_DELTA, distance 256
	f.Add([]byte{0xe0, 0xff, 0xff, 0xff, 0xff, 0xff}) // cut short
	f.Add(append([]byte{0x75}, make([]byte, 20)...))  // a REF_DELTA
	f.Fuzz(func(t *testing.T, b []byte) {
		h, dist, hl, ol, ok := entryHead(b)
		if !ok {
			return
		}
		if h < 1 || hl != h+ol || hl > len(b) {
			t.Fatalf("h %d, hl %d, ol %d of %d bytes", h, hl, ol, len(b))
		}
		if ol > 0 && !bytes.Equal(appendOfsDelta(nil, dist), b[h:hl]) {
			t.Fatalf("distance %d encodes as %x, read from %x", dist, appendOfsDelta(nil, dist), b[h:hl])
		}
	})
}

// TestRepackGeometric: past the bound, a repack that leaves the large
// packs copies the small ones, what merges wrote since, into one, and
// leaves the pack larger than twice them together.
func TestRepackGeometric(t *testing.T) {
	dir, r, objects := repackFixture(t)
	rp0 := repack(t, r)
	if err := errors.Join(rp0.Finish(), rp0.Sync()); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		commit(t, r, &paste.Paste{ID: fmt.Sprintf("later%d", i), Contents: []byte("a later paste"), Created: time.Unix(1700000000, 0)})
		if err := r.mergeSmall(); err != nil {
			t.Fatal(err)
		}
	}
	before := packCount(t, dir)
	if rp, err := r.PlanRepack(before, true); rp != nil || err != nil {
		t.Fatalf("a repack at the bound: %v, %v", rp, err)
	}
	rp, err := r.PlanRepack(2, true)
	if err != nil || rp == nil {
		t.Fatalf("plan: %v, %v", rp, err)
	}
	if rp.Stats.Packs != before-1 {
		t.Fatalf("%d packs of %d repacked: the large one too?", rp.Stats.Packs, before)
	}
	if err := rp.Write(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(rp.Finish(), rp.Sync()); err != nil {
		t.Fatal(err)
	}
	if n := packCount(t, dir); n != 2 {
		t.Fatalf("%d packs after", n)
	}
	checkRepo(t, dir, r, objects)
}
