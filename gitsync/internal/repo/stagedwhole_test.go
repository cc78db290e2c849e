package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gitplumbing "github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// TestStagedWhole: several commits staged together past stagedWholeBytes
// make one pack, not merged, whose trees and commits follow one another
// as deltas; the objects of a smaller staged pack before them stay for
// the merge; every paste reads back before and after a reopen, and git
// reads the pack (fsck --strict, verify-pack).
func TestStagedWhole(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	var ids []string
	group := func(n int, prefix string, size int) ([]*paste.Paste, []Blob) {
		var pastes []*paste.Paste
		var blobs []Blob
		for i := range n {
			id := fmt.Sprintf("%s%c%c%06d", prefix, 'a'+i%7, 'a'+i%5, i)
			p := &paste.Paste{ID: id, Contents: []byte(id + " " + strings.Repeat("x", size))}
			doc, err := paste.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			pastes, blobs = append(pastes, p), append(blobs, MakeBlob(doc))
		}
		return pastes, blobs
	}
	// A small staged pack first: it waits for a merge.
	pastes, blobs := group(20, "s", 100)
	tip, err := r.CommitBlobs(gitplumbing.ZeroHash, pastes, blobs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := written(t, r, tip)
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if s.whole || len(r.small) != 1 {
		t.Fatalf("a small staged pack: whole %v, %d waiting for a merge", s.whole, len(r.small))
	}
	// Four commits, one Stage, as the committer does with a log's
	// pastes under load.
	for c := range 4 {
		pastes, blobs := group(100, fmt.Sprintf("w%d", c), 3000)
		if tip, err = r.CommitBlobs(tip, pastes, blobs, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	s = written(t, r, tip)
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if !s.whole || len(r.small) != 1 {
		t.Fatalf("whole %v, %d packs waiting for a merge", s.whole, len(r.small))
	}
	for _, o := range s.objs {
		if _, ok := r.versions[o.Hash()]; ok {
			t.Fatalf("the version of %s, in the whole pack, is kept for a merge", o.Hash())
		}
	}
	if got := mustRef(t, r); got != tip {
		t.Fatalf("ref %s, want %s", got, tip)
	}
	check := func(when string) {
		t.Helper()
		for _, id := range ids {
			if data, err := r.Find(tip, id); err != nil || !strings.Contains(string(data), id) {
				t.Errorf("%s %s: %.40q %v", when, id, data, err)
			}
		}
	}
	check("after Finish")
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if len(packs) != 2 {
		t.Fatalf("%d packs, want 2: %v", len(packs), packs)
	}
	whole := filepath.Join(dir, "objects", "pack", "pack-"+s.sum.String())
	if _, err := os.Stat(whole + ".pack"); err != nil {
		t.Fatal(err)
	}
	gittest.Fsck(t, dir)
	verify := gittest.Git(t, dir, "verify-pack", "-v", whole+".idx")
	if !strings.Contains(verify, "chain length = 1: ") || !strings.Contains(verify, "chain length = 3: ") {
		t.Errorf("no chains of deltas in the pack:\n%s", verify)
	}
	r.Close()
	r = open(t, dir)
	check("after a reopen")
	// The merge of what waits leaves the whole pack as it is.
	if err := r.Settle(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(whole + ".pack"); err != nil {
		t.Fatal(err)
	}
	check("after a settle")
}
