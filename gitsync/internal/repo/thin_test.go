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
// result passes git fsck --strict. With the commits' records (made.go)
// as without, a split among the commits pushed.
func TestThinPack(t *testing.T) {
	for _, records := range []bool{false, true} {
		t.Run(fmt.Sprintf("records=%v", records), func(t *testing.T) { testThinPack(t, records) })
	}
}

func testThinPack(t *testing.T, records bool) {
	r := open(t, "")
	r.KeepRecords(records)
	rng := rand.New(rand.NewPCG(1, 2))
	id := func(prefix string) string {
		// One prefix: the leaf a/a splits, and pastes go three deep.
		b := []byte(prefix)
		for len(b) < 13 {
			b = append(b, "abcdefghijklmnopqrstuvwxyz0123456789"[rng.IntN(36)])
		}
		return string(b)
	}
	var ids []string
	for range 10 {
		var group []*paste.Paste
		for range 50 {
			ids = append(ids, id("aa"))
			group = append(group, &paste.Paste{ID: ids[len(ids)-1], Contents: []byte("old " + ids[len(ids)-1])})
		}
		commit(t, r, group...)
	}
	old, _ := r.Ref(master)
	full, err := r.PackFor(old, plumbing.ZeroHash, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	// Three commits of one paste: chains of deltas within the pack; and
	// a group that splits the leaf a/a/b.
	for i := range 3 {
		ids = append(ids, id("aa"))
		commit(t, r, &paste.Paste{ID: ids[len(ids)-1], Contents: fmt.Appendf(nil, "new %d", i)})
	}
	tip3, _ := r.Ref(master)
	thin3, err := r.PackFor(tip3, old, nil, false, true)
	if err != nil {
		t.Fatal(err)
	}
	whole3, err := r.PackFor(tip3, old, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(thin3)*2 > len(whole3) {
		t.Errorf("thin pack %d bytes, whole %d: want less than half", len(thin3), len(whole3))
	}
	t.Logf("3 commits: thin pack %d bytes, whole %d", len(thin3), len(whole3))
	var group []*paste.Paste
	for range 60 {
		ids = append(ids, id("aab"))
		group = append(group, &paste.Paste{ID: ids[len(ids)-1], Contents: []byte("split " + ids[len(ids)-1])})
	}
	commit(t, r, group...)
	commit(t, r, &paste.Paste{ID: id("aab"), Contents: []byte("after the split")})
	ids = append(ids, id("aab"))
	commit(t, r, &paste.Paste{ID: ids[len(ids)-1], Contents: []byte("last")})
	tip, _ := r.Ref(master)
	if _, kept := r.made[tip]; kept != records {
		t.Fatalf("the tip's record kept: %v", kept)
	}
	// From old: the first three commits' records were taken by the
	// packs above, and they are diffed; the last three's are taken.
	thin, err := r.PackFor(tip, old, nil, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, kept := r.made[tip]; kept {
		t.Fatal("the tip's record left after the push's pack")
	}
	t.Logf("6 commits: thin pack %d bytes", len(thin))

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
