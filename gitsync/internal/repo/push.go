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
// the remote does not take offset deltas. With thin, the remote completes
// thin packs (git's receive-pack does, unless it says no-thin): the pack
// from old holds what changed as deltas against what old holds (thin.go).
func (r *Repo) PackFor(tip, old plumbing.Hash, others []plumbing.Hash, refDeltas, thin bool) ([]byte, error) {
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
		c, err := r.commit(tip)
		if err != nil {
			return nil, err
		}
		child := len(c.ParentHashes) == 1 && c.ParentHashes[0] == old
		if child && !thin {
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
		if !child {
			base, err := r.MergeBase(old, tip)
			if err != nil {
				return nil, err
			}
			if base != old {
				return nil, fmt.Errorf("%s: %w", old, ErrNotAncestor)
			}
		}
		if thin {
			hashes, bases, deltas, err := r.changesSince(tip, old)
			if err != nil {
				return nil, err
			}
			return r.thinPack(hashes, bases, deltas)
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
	hashes, _, _, err := r.changesSince(tip, base)
	return hashes, err
}

// changesSince is objectsSince, with the earlier version of each object
// where it has one (bases): a commit's parent, and what the parent's tree
// held at the path of a tree or blob. Each such version is reachable from
// base or comes earlier in hashes, which are in the order of the commits
// (oldest first). bases is empty when the line holds a merge. deltas holds
// the deltas against their bases that the commits' records made (made.go).
func (r *Repo) changesSince(tip, base plumbing.Hash) ([]plumbing.Hash, map[plumbing.Hash]plumbing.Hash, map[plumbing.Hash][]byte, error) {
	line, err := r.commitsSince(tip, base)
	if err != nil {
		return nil, nil, nil, err
	}
	set := make(map[plumbing.Hash]bool)
	bases := make(map[plumbing.Hash]plumbing.Hash)
	deltas := make(map[plumbing.Hash][]byte)
	var out []plumbing.Hash
	add := func(h, before plumbing.Hash) bool {
		if set[h] {
			return false
		}
		set[h] = true
		out = append(out, h)
		if !before.IsZero() {
			bases[h] = before
		}
		return true
	}
	for _, c := range line {
		if len(c.ParentHashes) != 1 {
			hashes, err := revlist.Objects(r.st, []plumbing.Hash{tip}, []plumbing.Hash{base})
			return hashes, nil, nil, err
		}
		if rec, ok := r.takeRecord(c.Hash, c.ParentHashes[0]); ok {
			for _, h := range rec.blobs {
				add(h, plumbing.ZeroHash)
			}
			for _, o := range rec.objs {
				if add(o.hash, o.base) && o.n > 0 {
					deltas[o.hash] = rec.delta(o)
				}
			}
			continue
		}
		if err := r.commitChanges(c, func(h, before plumbing.Hash) { add(h, before) }); err != nil {
			return nil, nil, nil, err
		}
	}
	return out, bases, deltas, nil
}

// commitChanges calls add for commit c, of one parent, and for every tree
// and blob of its tree that its parent's lacks, with its earlier version
// (ZeroHash: none): the parent for c, what the parent's tree held at the
// object's path for the others. A tree comes before what it holds.
func (r *Repo) commitChanges(c *object.Commit, add func(h, before plumbing.Hash)) error {
	parentTree, err := r.treeOf(c.ParentHashes[0])
	if err != nil {
		return err
	}
	add(c.Hash, c.ParentHashes[0])
	if c.TreeHash != parentTree {
		add(c.TreeHash, parentTree)
	}
	return r.walkDiff(parentTree, c.TreeHash, "", func(_ string, e object.TreeEntry, before plumbing.Hash) error {
		if e.Mode != filemode.Submodule {
			add(e.Hash, before)
		}
		return nil
	})
}
