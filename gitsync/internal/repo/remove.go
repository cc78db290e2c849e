package repo

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
)

// Removing pastes: a removal is a commit that replaces a paste's file by
// its tombstone (paste.MarshalTombstone) at the same path, so that every
// reader of the branch answers "gone". Removed and Added report what moved
// between two commits, for the caches and the expiry index of a store that
// fetched.

// Removal is a paste to replace by a tombstone.
type Removal struct {
	ID        string
	Why       paste.Reason
	Tombstone []byte // paste.MarshalTombstone's
}

// Locate returns the path and the stored form of paste id in commit, in
// any layout, or an error wrapping paste.ErrNotFound.
func (r *Repo) Locate(commit plumbing.Hash, id string) (string, []byte, error) {
	root, err := r.treeOf(commit)
	if err != nil {
		return "", nil, err
	}
	p, e, ok, err := r.locatePath(root, id)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrNotFound)
	}
	data, err := r.blob(e.Hash)
	return p, data, err
}

// CommitRemovals replaces the pastes of removals by their tombstones in a
// new commit on parent, and returns it. Every paste must be in parent and
// not removed already: else nothing is written and the error wraps
// paste.ErrNotFound or paste.ErrGone. The message names the ids and why.
func (r *Repo) CommitRemovals(parent plumbing.Hash, removals []Removal, now time.Time) (plumbing.Hash, error) {
	root, err := r.treeOf(parent)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	files := make([]file, 0, len(removals))
	var names []string
	seen := make(map[string]bool, len(removals))
	for _, rm := range removals {
		p, data, err := r.Locate(parent, rm.ID)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if _, gone := paste.IsTombstone(data); gone || seen[rm.ID] {
			return plumbing.ZeroHash, fmt.Errorf("gitsync: paste %s: %w", rm.ID, paste.ErrGone)
		}
		seen[rm.ID] = true
		h, err := r.putBlob(rm.Tombstone)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		files = append(files, file{path: p, hash: h, mode: filemode.Regular})
		names = append(names, rm.ID+" ("+string(rm.Why)+")")
	}
	tree, err := r.setFiles(root, files)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	c := &object.Commit{TreeHash: tree, Author: signature("", now), Committer: signature("", now)}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	c.Message = "Remove " + strings.Join(names, ", ") + "\n"
	return r.putCommit(c)
}

// Removed returns the ids of the pastes that commit from holds and commit to
// does not (deleted, or replaced by a tombstone): the files of from that to
// lacks or holds with other contents. Unchanged directories are skipped, so
// its cost is that of the change.
func (r *Repo) Removed(from, to plumbing.Hash) ([]string, error) {
	fromTree, err := r.treeOf(from)
	if err != nil {
		return nil, err
	}
	toTree, err := r.treeOf(to)
	if err != nil {
		return nil, err
	}
	if fromTree.IsZero() {
		return nil, nil
	}
	var ids []string
	err = r.walkChanges(toTree, fromTree, "", func(p string, e object.TreeEntry) error {
		if e.Mode.IsFile() {
			ids = append(ids, path.Base(p))
		}
		return nil
	})
	return ids, err
}

// Added calls fn with the id and stored form of every file that commit to
// holds and commit from lacks or holds with other contents (new pastes,
// and tombstones).
func (r *Repo) Added(from, to plumbing.Hash, fn func(id string, data []byte) error) error {
	fromTree, err := r.treeOf(from)
	if err != nil {
		return err
	}
	toTree, err := r.treeOf(to)
	if err != nil {
		return err
	}
	// The walk is the one that moves the filter of ids from fromTree to
	// toTree: it is moved here, where the trees are read anyway.
	ids := r.ids
	if ids != nil && !ids.covers(fromTree) {
		ids = nil
	}
	err = r.walkChanges(fromTree, toTree, "", func(p string, e object.TreeEntry) error {
		if ids != nil && e.Mode != filemode.Dir {
			ids.add(e.Name)
		}
		if !e.Mode.IsFile() {
			return nil
		}
		data, err := r.blob(e.Hash)
		if err != nil {
			return err
		}
		return fn(path.Base(p), data)
	})
	if err == nil && ids != nil && r.ids == ids {
		ids.moveTo(toTree)
	}
	return err
}

// Files calls fn with the id and blob of every paste file of commit: the
// files whose name is a paste.ValidID, in any layout.
func (r *Repo) Files(commit plumbing.Hash, fn func(id string, blob plumbing.Hash)) error {
	root, err := r.treeOf(commit)
	if err != nil || root.IsZero() {
		return err
	}
	return r.walkChanges(plumbing.ZeroHash, root, "", func(p string, e object.TreeEntry) error {
		if e.Mode.IsFile() && paste.ValidID(path.Base(p)) {
			fn(path.Base(p), e.Hash)
		}
		return nil
	})
}

// Blob reads blob h.
func (r *Repo) Blob(h plumbing.Hash) ([]byte, error) { return r.blob(h) }

// Entry is one entry of a tree, for walks that read one tree at a time
// (Entries), letting others have the repository in between.
type Entry struct {
	ID   string        // a paste file's id; "" for a directory
	Hash plumbing.Hash // the file's blob, or the directory's tree
}

// Root returns the hash of commit's tree (ZeroHash for none), where a walk
// with Entries begins.
func (r *Repo) Root(commit plumbing.Hash) (plumbing.Hash, error) { return r.treeOf(commit) }

// Entries returns the paste files (named by a paste.ValidID) and the
// directories of tree, in any layout. It reads the tree past the cache
// of decoded trees, so that a walk of every tree does not empty it.
func (r *Repo) Entries(tree plumbing.Hash) ([]Entry, error) {
	if tree.IsZero() {
		return nil, nil
	}
	t, err := r.getTree(tree)
	if err != nil {
		return nil, missing(tree, err)
	}
	var out []Entry
	for _, e := range t.Entries {
		if r.idsNext != nil && e.Mode != filemode.Dir {
			r.idsNext.add(e.Name)
		}
		switch {
		case e.Mode == filemode.Dir:
			out = append(out, Entry{Hash: e.Hash})
		case e.Mode.IsFile() && paste.ValidID(e.Name):
			out = append(out, Entry{ID: e.Name, Hash: e.Hash})
		}
	}
	return out, nil
}
