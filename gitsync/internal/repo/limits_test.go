package repo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// TestPackLimits: a pack that costs more than the limits is refused
// (ErrRefusedPack) before it is built, on disk and in memory, and leaves
// no file behind: the delta bomb (a delta that builds 1 GiB from 175
// bytes), a blob of zeros larger than any paste, a chain of deltas that
// holds more than the chain allows; a pack within them is received.
func TestPackLimits(t *testing.T) {
	ofs, _ := deltaPack(t, "--delta-base-offset")
	tests := []struct {
		name string
		pack []byte
		lim  Limits
		ok   bool
	}{
		{"delta bomb", gittest.DeltaBomb(), LimitsFor(paste.DefaultMaxSize), false},
		{"zeros", gittest.ZeroBomb(16 << 20), LimitsFor(paste.DefaultMaxSize), false},
		{"zeros within the object limit, over the pack's", gittest.ZeroBomb(4 << 20),
			Limits{Object: 8 << 20, Chain: 8 << 20, Pack: 1 << 20, Inflated: 1 << 20}, false},
		{"received bytes", ofs, Limits{Object: 1 << 20, Chain: 1 << 20, Pack: 100, Inflated: 1 << 20}, false},
		{"chain", ofs, Limits{Object: 1 << 20, Chain: 2000, Pack: 1 << 20, Inflated: 1 << 20}, false},
		{"legitimate", ofs, LimitsFor(paste.DefaultMaxSize), true},
	}
	for _, tt := range tests {
		for _, memory := range []bool{false, true} {
			name := tt.name
			if memory {
				name += " in memory"
			}
			t.Run(name, func(t *testing.T) {
				dir := ""
				if !memory {
					dir = t.TempDir()
				}
				r := open(t, dir)
				r.SetLimits(tt.lim)
				in, err := r.Receive(bytes.NewReader(tt.pack))
				if tt.ok {
					if err != nil {
						t.Fatal(err)
					}
					in.Discard()
					return
				}
				if !errors.Is(err, ErrRefusedPack) {
					t.Fatalf("err = %v, want ErrRefusedPack", err)
				}
				if dir != "" {
					tmp, _ := filepath.Glob(filepath.Join(dir, "objects", "tmp_*"))
					packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*"))
					if left := append(tmp, packs...); len(left) > 0 {
						t.Errorf("files left: %v", left)
					}
				}
			})
		}
	}
}

// TestReadLimit: a paste larger than the object limit (pushed by another
// server) is not read: Find says ErrObjectTooLarge.
func TestReadLimit(t *testing.T) {
	r := open(t, t.TempDir())
	big := bytes.Repeat([]byte("x"), 256<<10)
	tip := commit(t, r, &paste.Paste{ID: "big", Contents: big})
	if _, err := r.Find(tip, "big"); err != nil {
		t.Fatal(err)
	}
	r.SetLimits(LimitsFor(8 << 10))
	if _, err := r.Find(tip, "big"); !errors.Is(err, ErrObjectTooLarge) {
		t.Fatalf("err = %v, want ErrObjectTooLarge", err)
	}
}

// TestRemoveTemp: Open removes what a process left behind when it died or
// the disk was full: go-git's empty objects/pack/tmp_obj_* and Receive's
// temporary packs.
func TestRemoveTemp(t *testing.T) {
	dir := t.TempDir()
	open(t, dir).Close()
	left := []string{"objects/pack/tmp_obj_123", "objects/tmp_pack_456", "objects/tmp_idx_789"}
	for _, name := range left {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	open(t, dir)
	for _, name := range left {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s is still there", name)
		}
	}
}

// TestChainAtTheLimits: deltas whose every object is just under the
// object limit are refused once the bases they hold at once pass the chain
// limit (a tree of deltas, three levels deep), and indexed while they do
// not (two levels; and a linear chain, which holds one base at a time).
func TestChainAtTheLimits(t *testing.T) {
	lim := Limits{Object: 1 << 20, Paste: 1 << 20, Chain: 2 << 20, Pack: 1 << 20, Inflated: 64 << 20}
	for depth, ok := range map[int]bool{1: true, 2: true, 3: false} {
		_, _, err := indexPack(bytes.NewReader(gittest.ChainBomb(1<<20-100, depth)), lim, 1<<20, nil)
		if ok && err != nil || !ok && !errors.Is(err, ErrRefusedPack) {
			t.Errorf("tree of depth %d: %v", depth, err)
		}
	}
}
