package repo

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// TestMergeLoose: the loose objects of single pastes are merged with the
// packs of groups into one pack, their files removed; the merged pack
// holds the trees and commits that follow one another as deltas, and git
// reads it (fsck --strict, verify-pack), as pasteur does once reopened.
func TestMergeLoose(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	var ids []string
	// mergePacks packs, each after three flushes of loose objects: the
	// last pack makes the merge.
	for i := range 4 * mergePacks {
		var group []*paste.Paste
		n := 1 // loose objects
		if i%4 == 3 {
			n = 10 // a pack
		}
		for j := range n {
			id := fmt.Sprintf("%c%c%011d", 'a'+i%3, 'a'+j%5, i*100+j)
			ids = append(ids, id)
			group = append(group, &paste.Paste{ID: id, Contents: []byte("merged " + id)})
		}
		commit(t, r, group...)
	}
	loose, _ := filepath.Glob(filepath.Join(dir, "objects", "??", "*"))
	if len(loose) != 0 {
		t.Errorf("%d loose objects left after the merge: %v", len(loose), loose)
	}
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("%d packs, want the merged one: %v", len(packs), packs)
	}
	gittest.Fsck(t, dir)
	verify := gittest.Git(t, dir, "verify-pack", "-v", strings.TrimSuffix(packs[0], ".pack")+".idx")
	if !strings.Contains(verify, "chain length = 1: ") || !strings.Contains(verify, "chain length = 2: ") {
		t.Errorf("no chains of deltas in the merged pack:\n%s", verify)
	}
	r.Close()
	r = open(t, dir)
	tip, _ := r.Ref(master)
	for _, id := range ids {
		if data, err := r.Find(tip, id); err != nil || !strings.Contains(string(data), id) {
			t.Errorf("%s: %.40q %v", id, data, err)
		}
	}
}

// TestMeasureMergedReads (PASTEUR_MEASURE=N, N pastes): figures for
// BENCHMARKS.md. N pastes, one commit each (loose objects, merged every
// mergeLoose), in two repositories: merged packs with deltas, and merged
// packs of whole objects. What stays on disk per paste, and the time to
// read every paste back: opened anew (the first reads decode the trees),
// then again (decoded trees cached).
func TestMeasureMergedReads(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PASTEUR_MEASURE"))
	if n == 0 {
		t.Skip("figures: PASTEUR_MEASURE=N")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ids := make([]string, n)
	for i := range ids {
		b := make([]byte, 13)
		for j := range b {
			b[j] = "abcdefghijklmnopqrstuvwxyz0123456789"[rng.IntN(36)]
		}
		ids[i] = string(b)
	}
	dirs := map[int]string{}
	for _, depth := range []int{0, maxMergeDepth} {
		dir := t.TempDir()
		dirs[depth] = dir
		r, err := Open(dir, master)
		if err != nil {
			t.Fatal(err)
		}
		r.mergeDepth = depth
		t0 := time.Now()
		for _, id := range ids {
			commit(t, r, &paste.Paste{ID: id, Contents: []byte("measured " + id)})
		}
		took := time.Since(t0)
		r.Close()
		var size int64
		filepath.WalkDir(filepath.Join(dir, "objects"), func(_ string, d fs.DirEntry, err error) error {
			if fi, err := d.Info(); err == nil && !d.IsDir() {
				size += fi.Size()
			}
			return nil
		})
		t.Logf("merge depth %2d: %d pastes committed in %v, %d bytes of objects per paste", depth, n, took.Round(time.Millisecond), size/int64(n))
	}
	for round := range 3 {
		for _, depth := range []int{0, maxMergeDepth} {
			r := open(t, dirs[depth])
			tip, _ := r.Ref(master)
			var took [2]time.Duration
			for pass := range 2 {
				t0 := time.Now()
				for _, i := range rng.Perm(n) {
					if _, err := r.Find(tip, ids[i]); err != nil {
						t.Fatal(err)
					}
				}
				took[pass] = time.Since(t0)
			}
			r.Close()
			t.Logf("round %d, merge depth %2d: read %d pastes in %v opened anew, %v again", round, depth, n, took[0].Round(time.Microsecond), took[1].Round(time.Microsecond))
		}
	}
}

// TestOfsDelta: the distance to an OFS_DELTA's base reads back as git
// reads it (packfile.c, get_delta_base), at the lengths' edges.
func TestOfsDelta(t *testing.T) {
	for _, dist := range []int64{1, 127, 128, 16511, 16512, 2113663, 2113664, 1 << 40} {
		b := appendOfsDelta(nil, dist)
		c := b[0]
		got := int64(c & 0x7f)
		for i := 1; c&0x80 != 0; i++ {
			c = b[i]
			got = (got+1)<<7 | int64(c&0x7f)
		}
		if got != dist {
			t.Errorf("%d: read back %d from % x", dist, got, b)
		}
	}
}
