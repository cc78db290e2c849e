package repo

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
)

// TestReceiveThin: a thin pack from git (a deepening of the history, as
// the completion fetches it) is completed with the repository's objects,
// on disk and in memory: every object reads back, and git finds the
// repository whole; the bases it lacks make it an error, with no file
// left.
func TestReceiveThin(t *testing.T) {
	src, pack := growingHistory(t, 40)
	old := pack("master~20\n")
	thin := pack("master\n^master~20\n", "--thin")
	if _, _, err := indexPack(bytes.NewReader(thin), LimitsFor(1<<20), int64(len(thin)), nil); err == nil {
		t.Fatal("git's pack is not thin: the test tests nothing")
	}
	tip := plumbing.NewHash(strings.TrimSpace(gittest.Git(t, src, "rev-parse", "master")))

	for _, memory := range []bool{false, true} {
		t.Run(fmt.Sprintf("memory=%v", memory), func(t *testing.T) {
			dir := ""
			if !memory {
				dir = filepath.Join(t.TempDir(), "r.git")
			}
			r, err := Open(dir, plumbing.NewBranchReferenceName("master"))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			// Without the bases: refused, nothing left.
			if _, err := r.ReceiveThin(bytes.NewReader(thin), r.Object); err == nil {
				t.Fatal("a thin pack without its bases was accepted")
			}
			if !memory {
				tmp, _ := filepath.Glob(filepath.Join(dir, "objects", "tmp_*"))
				if len(tmp) > 0 {
					t.Fatalf("files left: %v", tmp)
				}
			}
			for _, p := range [][]byte{old, thin} {
				in, err := r.ReceiveThin(bytes.NewReader(p), r.Object)
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Add(in); err != nil {
					t.Fatal(err)
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(gittest.Git(t, src, "rev-list", "--objects", "master")), "\n") {
				h := plumbing.NewHash(line[:40])
				if _, _, err := r.Object(h); err != nil {
					t.Fatalf("object %s: %v", h, err)
				}
			}
			if memory {
				return
			}
			if err := r.SetRef(plumbing.NewBranchReferenceName("master"), tip); err != nil {
				t.Fatal(err)
			}
			gittest.Git(t, dir, "fsck", "--strict", "--no-dangling")
			packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
			for _, p := range packs {
				gittest.Git(t, dir, "verify-pack", p)
			}
		})
	}
}

// growingHistory makes a bare repository of n commits, each growing
// file f by a line and adding d/i, with git fast-import, and returns its
// path and a function that packs revs of it with git pack-objects
// (offset deltas).
func growingHistory(t *testing.T, n int) (string, func(revs string, opts ...string) []byte) {
	t.Helper()
	gittest.Require(t)
	src := filepath.Join(t.TempDir(), "src.git")
	gittest.Run(t, "", "init", "--quiet", "--bare", src)
	var in, text strings.Builder
	for i := range n {
		fmt.Fprintf(&text, "line %d of a file that grows a little in every commit\n", i)
		fmt.Fprintf(&in, "commit refs/heads/master\ncommitter t <t@localhost> %d +0000\ndata 2\nc\n", 1700000000+i)
		fmt.Fprintf(&in, "M 100644 inline f\ndata %d\n%s\n", text.Len(), text.String())
		fmt.Fprintf(&in, "M 100644 inline d/%d\ndata 1\n%d\n\n", i, i%10)
	}
	gittest.Run(t, in.String(), "--git-dir="+src, "fast-import", "--quiet")
	return src, func(revs string, opts ...string) []byte {
		return []byte(gittest.Run(t, revs, append([]string{"--git-dir=" + src, "pack-objects", "--stdout", "--revs", "-q", "--threads=1", "--delta-base-offset"}, opts...)...))
	}
}
