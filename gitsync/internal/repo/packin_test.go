package repo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
)

// deltaPack makes a repository whose history deltifies (a file edited in
// every commit) and returns the pack git sends of it, with pack-objects
// options opts, and its objects.
func deltaPack(t *testing.T, opts ...string) ([]byte, []plumbing.Hash) {
	t.Helper()
	gittest.Require(t)
	dir := filepath.Join(t.TempDir(), "src.git")
	gittest.Run(t, "", "init", "--quiet", "--bare", dir)
	var in strings.Builder
	var text strings.Builder
	for i := range 40 {
		fmt.Fprintf(&text, "line %d of a file that grows a little in every commit\n", i)
		fmt.Fprintf(&in, "commit refs/heads/master\ncommitter t <t@localhost> %d +0000\ndata 2\nc\n", 1700000000+i)
		fmt.Fprintf(&in, "M 100644 inline f\ndata %d\n%s\n", text.Len(), text.String())
		fmt.Fprintf(&in, "M 100644 inline d/%d\ndata 1\n%d\n\n", i, i%10)
	}
	gittest.Run(t, in.String(), "--git-dir="+dir, "fast-import", "--quiet")
	// One thread: the deltas, and so the chains TestPackLimits measures,
	// are then the same under any load.
	gittest.Git(t, dir, "-c", "pack.threads=1", "repack", "-adfq")
	pack := []byte(gittest.Run(t, "master\n", append([]string{"--git-dir=" + dir, "pack-objects", "--stdout", "--revs", "-q", "--threads=1"}, opts...)...))
	var objs []plumbing.Hash
	for _, line := range strings.Split(strings.TrimSpace(gittest.Git(t, dir, "rev-list", "--objects", "master")), "\n") {
		objs = append(objs, plumbing.NewHash(line[:40]))
	}
	return pack, objs
}

// TestReceive: packs with offset and with reference deltas are indexed as
// git indexes them, in memory too; a damaged pack is refused, and leaves
// no file behind.
func TestReceive(t *testing.T) {
	ofs, objs := deltaPack(t, "--delta-base-offset")
	ref, _ := deltaPack(t)
	damaged := bytes.Clone(ofs)
	damaged[len(damaged)/2] ^= 0x55
	tests := []struct {
		name   string
		pack   []byte
		memory bool
		ok     bool
	}{
		{"offset deltas", ofs, false, true},
		{"reference deltas", ref, false, true},
		{"in memory", ofs, true, true},
		{"damaged", damaged, false, false},
		{"truncated", ofs[:len(ofs)-30], false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := ""
			if !tt.memory {
				dir = t.TempDir()
			}
			r, err := Open(dir, plumbing.NewBranchReferenceName("master"))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			in, err := r.Receive(bytes.NewReader(tt.pack))
			if err == nil {
				err = r.Add(in)
			}
			if !tt.ok {
				if err == nil {
					t.Fatal("a bad pack was accepted")
				}
				tmp, _ := filepath.Glob(filepath.Join(dir, "objects", "tmp_*"))
				packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*"))
				if left := append(tmp, packs...); len(left) > 0 {
					t.Errorf("files left: %v", left)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range objs {
				if !r.Has(h) {
					t.Fatalf("object %s missing", h)
				}
			}
			if tt.memory {
				return
			}
			// git index-pack writes the same index.
			ours, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "pack-*.idx"))
			if err != nil || len(ours) != 1 {
				t.Fatalf("indexes %v, %v", ours, err)
			}
			pack := filepath.Join(t.TempDir(), "p.pack")
			if err := os.WriteFile(pack, tt.pack, 0o666); err != nil {
				t.Fatal(err)
			}
			gittest.Run(t, "", "index-pack", pack)
			want, _ := os.ReadFile(strings.TrimSuffix(pack, ".pack") + ".idx")
			got, _ := os.ReadFile(ours[0])
			if !bytes.Equal(got, want) {
				t.Errorf("index differs from git's: %d bytes, want %d", len(got), len(want))
			}
		})
	}
}
