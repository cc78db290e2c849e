package repo

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// TestThinPack: the pack from a remote's tip holds the trees and commits
// as deltas against what the remote holds and what the pack holds
// earlier; git completes it both ways receive-pack does (unpack-objects
// for a small pack, index-pack --fix-thin for a large one), and the
// result passes git fsck --strict.
func TestThinPack(t *testing.T) {
	r := open(t, "")
	rng := rand.New(rand.NewPCG(1, 2))
	id := func() string {
		// One prefix: the leaf a/a splits, and pastes go three deep.
		b := []byte("aa")
		for range 11 {
			b = append(b, "abcdefghijklmnopqrstuvwxyz0123456789"[rng.IntN(36)])
		}
		return string(b)
	}
	var ids []string
	for range 10 {
		var group []*paste.Paste
		for range 50 {
			ids = append(ids, id())
			group = append(group, &paste.Paste{ID: ids[len(ids)-1], Contents: []byte("old " + ids[len(ids)-1])})
		}
		commit(t, r, group...)
	}
	old, _ := r.Ref(master)
	full, err := r.PackFor(old, plumbing.ZeroHash, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	// Three commits of one paste: chains of deltas within the pack.
	for i := range 3 {
		ids = append(ids, id())
		commit(t, r, &paste.Paste{ID: ids[len(ids)-1], Contents: fmt.Appendf(nil, "new %d", i)})
	}
	tip, _ := r.Ref(master)
	whole, err := r.PackFor(tip, old, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	thin, err := r.PackFor(tip, old, nil, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(thin)*2 > len(whole) {
		t.Errorf("thin pack %d bytes, whole %d: want less than half", len(thin), len(whole))
	}
	t.Logf("3 commits: thin pack %d bytes, whole %d", len(thin), len(whole))

	for _, complete := range [][]string{{"unpack-objects", "-q"}, {"index-pack", "--stdin", "--fix-thin"}} {
		t.Run(complete[0], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "remote.git")
			gittest.Bare(t, dir, false)
			gittest.Run(t, string(full), append([]string{"--git-dir=" + dir}, "index-pack", "--stdin")...)
			gittest.Git(t, dir, "update-ref", "refs/heads/master", old.String())
			gittest.Run(t, string(thin), append([]string{"--git-dir=" + dir}, complete...)...)
			gittest.Git(t, dir, "update-ref", "refs/heads/master", tip.String(), old.String())
			gittest.Fsck(t, dir)
			files := gittest.Git(t, dir, "ls-tree", "-r", "--name-only", "master")
			for _, id := range ids {
				if !strings.Contains(files, "/"+id+"\n") {
					t.Errorf("%s not on the remote's master", id)
				}
			}
		})
	}
}

// TestSpliceDelta: git's delta format, as go-git applies it, for changes
// at either end, none, everything (an empty base is never used: go-git
// refuses it), and copies and inserts longer than one
// instruction takes.
func TestSpliceDelta(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160,000 bytes
	edit := func(b []byte, at int, with string) []byte {
		return append(append(append([]byte{}, b[:at]...), with...), b[at:]...)
	}
	for _, tt := range []struct{ name, src, tgt string }{
		{"same", "tree", "tree"},
		{"empty target", "tree", ""},
		{"start", "abcdef", "xxabcdef"},
		{"end", "abcdef", "abcdefxx"},
		{"middle", "abcdef", "abcXXXdef"},
		{"replaced", "abcdef", "ghijkl"},
		{"long insert", "ab", "a" + strings.Repeat("x", 300) + "b"},
		{"long copies", string(big), string(edit(big, 70000, "change"))},
	} {
		src, tgt := []byte(tt.src), []byte(tt.tgt)
		got, err := packfile.PatchDelta(src, spliceDelta(src, tgt))
		if err != nil || !bytes.Equal(got, tgt) {
			t.Errorf("%s: %v, %d bytes where %d are wanted", tt.name, err, len(got), len(tgt))
		}
	}
}
