package repo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
)

// MoveFlat commits on tip the move of the pastes at the root of its tree,
// as the original pasteur wrote them, to ID[0]/ID[1]/ID, and returns the
// commit (ZeroHash when none moved) with the number moved and kept. The
// blobs, so the ids and contents, do not change, only their paths. A root
// file moves when its name is an id and it holds a stored paste; a paste
// whose new path is taken (the same id there already, or a file where a
// directory would go) stays at the root, where Find still reads it. The
// caller points the branch at the commit.
func (r *Repo) MoveFlat(tip plumbing.Hash, now time.Time) (commit plumbing.Hash, moved, kept int, err error) {
	root, err := r.treeOf(tip)
	if err != nil {
		return plumbing.ZeroHash, 0, 0, err
	}
	files, kept, base, err := r.planMove(root)
	if err != nil || len(files) == 0 {
		return plumbing.ZeroHash, 0, kept, err
	}
	tree, err := r.addFiles(base, files)
	if err != nil {
		return plumbing.ZeroHash, 0, 0, fmt.Errorf("gitsync: move the root pastes: %w", err)
	}
	sig := signature("", now)
	c := &object.Commit{
		Author: sig, Committer: sig, TreeHash: tree, ParentHashes: []plumbing.Hash{tip},
		Message: fmt.Sprintf("Move %d pastes from the root to ID[0]/ID[1]/ID\n", len(files)),
	}
	commit, err = r.putCommit(c)
	return commit, len(files), kept, err
}

// planMove chooses the root pastes of tree root to move and their new
// paths, and counts those that stay. base is root without the moving
// ones, known to the tree cache only (it is never stored: addFiles reads
// it and stores the new root).
func (r *Repo) planMove(root plumbing.Hash) (files []file, kept int, base plumbing.Hash, err error) {
	t, err := r.tree(root)
	if err != nil {
		return nil, 0, plumbing.ZeroHash, err
	}
	moving := map[string]bool{}
	for _, e := range t.Entries {
		if e.Mode.IsFile() && paste.ValidID(e.Name) && r.isPaste(e) {
			moving[e.Name] = true
		}
	}
	// What the new paths take: files, and the directories above them.
	takenFile, takenDir := map[string]bool{}, map[string]bool{}
	ids := make([]string, 0, len(moving))
	for id := range moving {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		path := shardPath(id)
		if !r.freeAfterMove(root, path, moving) || takenFile[path] || takenDir[path] || blockedBy(path, takenFile) {
			delete(moving, id)
			kept++
			continue
		}
		takenFile[path] = true
		for dir := path; strings.Contains(dir, "/"); {
			dir = dir[:strings.LastIndexByte(dir, '/')]
			takenDir[dir] = true
		}
		e, _ := t.FindEntry(id)
		files = append(files, file{path: path, hash: e.Hash, mode: e.Mode})
	}
	rest := &object.Tree{}
	for _, e := range t.Entries {
		if !moving[e.Name] {
			rest.Entries = append(rest.Entries, e)
		}
	}
	o := r.st.NewEncodedObject()
	if err := rest.Encode(o); err != nil {
		return nil, 0, plumbing.ZeroHash, err
	}
	base = o.Hash()
	r.cacheTree(base, rest)
	return files, kept, base, nil
}

// freeAfterMove reports whether path is free in tree root once the root
// files in moving are gone: nothing is there, and no directory of it is a
// file that stays.
func (r *Repo) freeAfterMove(root plumbing.Hash, path string, moving map[string]bool) bool {
	first, _, _ := strings.Cut(path, "/")
	e, ok, err := r.entryAt(root, first)
	if err != nil {
		return false
	}
	if ok && e.Mode != filemode.Dir {
		return moving[first] // a root paste that moves away frees its name
	}
	_, ok, err = r.entryAt(root, path)
	return err == nil && !ok
}

// blockedBy reports whether a directory of path is in files.
func blockedBy(path string, files map[string]bool) bool {
	for dir := path; strings.Contains(dir, "/"); {
		dir = dir[:strings.LastIndexByte(dir, '/')]
		if files[dir] {
			return true
		}
	}
	return false
}

// isPaste reports whether the root file e holds a stored paste.
func (r *Repo) isPaste(e object.TreeEntry) bool {
	b, err := r.blob(e.Hash)
	if err != nil {
		return false
	}
	_, err = paste.Unmarshal(e.Name, b)
	return err == nil
}
