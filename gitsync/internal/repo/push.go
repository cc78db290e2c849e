package repo

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/revlist"
)

// ErrNotAncestor: a pack was asked for from a commit that is not an
// ancestor of its tip (or not in the repository).
var ErrNotAncestor = errors.New("not an ancestor of the tip")

// PackFor returns the packfile that takes a remote branch from old
// (ZeroHash: no branch) to tip, or an error wrapping ErrNotAncestor when old
// is not an ancestor of tip. For a new branch, the objects that the commits
// in others (the remote's other refs) reach are left out. With refDeltas,
// the remote does not take offset deltas.
func (r *Repo) PackFor(tip, old plumbing.Hash, others []plumbing.Hash, refDeltas bool) ([]byte, error) {
	var hashes []plumbing.Hash
	if old.IsZero() {
		// A new branch: everything, less what the remote's other refs
		// reach. Rare (the first push), and it walks the whole history.
		var ignore []plumbing.Hash
		for _, h := range others {
			if r.Has(h) {
				ignore = append(ignore, h)
			}
		}
		var err error
		if hashes, err = revlist.Objects(r.st, []plumbing.Hash{tip}, ignore); err != nil {
			return nil, err
		}
	} else {
		if !r.Has(old) {
			return nil, fmt.Errorf("%s: %w", old, ErrNotAncestor)
		}
		if c, err := r.commit(tip); err == nil && len(c.ParentHashes) == 1 && c.ParentHashes[0] == old {
			if pack := r.batch.lastPack(tip); pack != nil {
				// A commit replayed onto old reuses the blobs of the
				// commit it copies, written by an earlier flush: the
				// last pack holds them only when they were new there.
				objs, err := r.objectsSince(tip, old)
				if err != nil {
					return nil, err
				}
				if r.batch.inLast(objs) {
					return pack, nil
				}
			}
		}
		base, err := r.MergeBase(old, tip)
		if err != nil {
			return nil, err
		}
		if base != old {
			return nil, fmt.Errorf("%s: %w", old, ErrNotAncestor)
		}
		if hashes, err = r.objectsSince(tip, old); err != nil {
			return nil, err
		}
	}

	var buf bytes.Buffer
	if _, err := packfile.NewEncoder(&buf, r.st, refDeltas).Encode(hashes, 0); err != nil {
		return nil, fmt.Errorf("encode pack: %w", err)
	}
	return buf.Bytes(), nil
}

// objectsSince returns the objects that the commits from tip back to base
// (an ancestor of tip on its first-parent line, excluded) add: the commits,
// and the trees and blobs that differ from their parent's. It reads only
// what changed, where revlist.Objects would read every tree of the history.
// A merge commit on the way falls back to revlist.
func (r *Repo) objectsSince(tip, base plumbing.Hash) ([]plumbing.Hash, error) {
	line, err := r.commitsSince(tip, base)
	if err != nil {
		return nil, err
	}
	set := make(map[plumbing.Hash]bool)
	var out []plumbing.Hash
	add := func(h plumbing.Hash) {
		if !set[h] {
			set[h] = true
			out = append(out, h)
		}
	}
	for _, c := range line {
		if len(c.ParentHashes) != 1 {
			return revlist.Objects(r.st, []plumbing.Hash{tip}, []plumbing.Hash{base})
		}
		parentTree, err := r.treeOf(c.ParentHashes[0])
		if err != nil {
			return nil, err
		}
		add(c.Hash)
		if c.TreeHash != parentTree {
			add(c.TreeHash)
		}
		err = r.walkChanges(parentTree, c.TreeHash, "", func(_ string, e object.TreeEntry) error {
			if e.Mode != filemode.Submodule {
				add(e.Hash)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
