package repo

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
)

// Where pastes live in the tree of the branch (docs/FORMAT.md, "Repository
// layout").
//
// A new paste of two characters or more goes into the adaptive layout: a
// trie of one-character directories, ID[0]/ID[1]/.../ID[k-1]/ID, at least
// two deep (k >= minDepth), whose trees split as they grow, as git notes'
// fanout does. A tree that holds pastes (files) and no one-character
// directory is a leaf; once a paste makes a leaf hold more than leafMax
// entries, its pastes move one level down, into directories named by
// their next character (split.go). Below minDepth, and in a tree that has
// split, a paste goes into the directory of its next character, made when
// missing; else it is a file of the leaf. So every tree a paste rewrites
// holds at most leafMax entries, or one per character of the alphabet
// (64 for [A-Za-z0-9_-], 36 for the ids pasteur makes), plus the one paste
// whose id is the tree's whole prefix; and a paste's path is
// O(log(pastes)) deep. A repository written before the split, where every
// paste was at depth two (ID[0]/ID[1]/ID), is that layout with leaves that
// have not split yet.
//
// A reader walks down from the root along the id's characters, looking in
// each tree for a file named ID, so a lookup reads O(depth) trees, and
// finds a paste at any depth, the original's at the root included.
//
// A one-character id is "_/ID". Ids pasteur makes have no '_', but the
// original's newest alphabet has: a file "_/a" (the paste "a") where the
// paste "_ab" needs the directory "_/a" is a blocked path, handled as
// below.
//
// Two older layouts are read too, and their files keep their ids: the
// original pasteur's, every paste at the root as the file ID, and
// ID[0:2]/ID (pasteur before the nested layout; ID/ID for one character).
// A file of an older layout can block a path of the new one (an original
// paste "a" is a file where the directory "a" would go): the new paste then
// goes where the older layouts would have put it. Directories are
// recognised by their mode: a root entry "ab" that is a directory is a
// prefix, one that is a file is the paste "ab".
const (
	// minDepth is the depth of the leaves of a new repository: two levels
	// of directories, as pasteur wrote before leaves split.
	minDepth = 2
	// leafMax bounds the entries of a leaf: one more paste splits it. At
	// 41 bytes an entry (13-character ids), a full leaf is 2.6 KB; see
	// docs/FORMAT.md for the choice.
	leafMax = 64
)

// shardPath is where a paste named id went in a repository without split
// leaves: ID[0]/ID[1]/ID, "_/ID" for one character. pasteur migrate moves
// the original's pastes there.
func shardPath(id string) string {
	if len(id) < 2 {
		return "_/" + id
	}
	return id[:1] + "/" + id[1:2] + "/" + id
}

// twoPath is where the ID[0:2]/ID layout put paste id.
func twoPath(id string) string {
	if len(id) < 2 {
		return id + "/" + id
	}
	return id[:2] + "/" + id
}

// fixedPaths are the paths of paste id outside the adaptive walk, in the
// order a writer tries them: "_/ID" for one character, then the older
// layouts. The root (the original's) comes last; the walk looks there too.
func fixedPaths(id string) []string {
	if len(id) < 2 {
		return []string{shardPath(id), twoPath(id), id}
	}
	return []string{twoPath(id), id}
}

// isPastePath reports whether p is a path of paste id in some layout.
func isPastePath(p, id string) bool {
	if !paste.ValidID(id) {
		return false
	}
	for _, fp := range fixedPaths(id) {
		if p == fp {
			return true
		}
	}
	dirs, ok := strings.CutSuffix(p, "/"+id)
	if !ok || len(dirs)%2 == 0 || len(dirs) < 2*minDepth-1 || len(dirs) > 2*len(id)-1 {
		return false
	}
	for i := 0; i < len(dirs); i += 2 {
		if dirs[i] != id[i/2] || i+1 < len(dirs) && dirs[i+1] != '/' {
			return false
		}
	}
	return true
}

// Free returns nil when a paste named id can be added to commit (ZeroHash:
// none yet), or an error wrapping paste.ErrExists when the id is taken
// there, in any layout.
func (r *Repo) Free(commit plumbing.Hash, id string) error {
	root, err := r.treeOf(commit)
	if err != nil {
		return err
	}
	_, err = r.placePaste(root, id)
	return err
}

// Find returns the stored form of paste id in commit, in any layout, or an
// error wrapping paste.ErrNotFound.
func (r *Repo) Find(commit plumbing.Hash, id string) ([]byte, error) {
	root, err := r.treeOf(commit)
	if err != nil {
		return nil, err
	}
	return r.findPaste(root, id)
}

// walk follows id's characters down from tree root, as far as its
// directories go, and returns the file named id it met on the way, if
// any. blocked reports that a file stood where the adaptive layout needs a
// directory above minDepth.
func (r *Repo) walk(root plumbing.Hash, id string) (e object.TreeEntry, found, blocked bool, err error) {
	_, e, found, blocked, err = r.walkPath(root, id)
	return e, found, blocked, err
}

// walkPath is walk, with the path of the file found.
func (r *Repo) walkPath(root plumbing.Hash, id string) (at string, e object.TreeEntry, found, blocked bool, err error) {
	h := root
	for depth := 0; !h.IsZero(); depth++ {
		t, err := r.tree(h)
		if err != nil {
			return "", object.TreeEntry{}, false, false, err
		}
		if f := findEntry(t, id); f != nil && f.Mode.IsFile() {
			return at + id, *f, true, false, nil
		}
		if depth >= len(id) {
			break
		}
		d := findEntry(t, id[depth:depth+1])
		if d == nil {
			break
		}
		if d.Mode != filemode.Dir {
			return "", object.TreeEntry{}, false, depth < minDepth, nil
		}
		h, at = d.Hash, at+d.Name+"/"
	}
	return "", object.TreeEntry{}, false, false, nil
}

// locate returns the entry of paste id in tree root, in any layout, and
// whether there is one.
func (r *Repo) locate(root plumbing.Hash, id string) (object.TreeEntry, bool, error) {
	_, e, ok, err := r.locatePath(root, id)
	return e, ok, err
}

// locatePath is locate, with the path of the entry.
func (r *Repo) locatePath(root plumbing.Hash, id string) (string, object.TreeEntry, bool, error) {
	at, e, found, _, err := r.walkPath(root, id)
	if err != nil || found {
		return at, e, found, err
	}
	for _, path := range fixedPaths(id) {
		e, ok, err := r.entryAt(root, path)
		if errors.Is(err, errBlocked) || err == nil && (!ok || !e.Mode.IsFile()) {
			continue
		}
		return path, e, err == nil, err
	}
	return "", object.TreeEntry{}, false, nil
}

// placePaste returns where a new paste named id goes in tree root: "" for
// the adaptive layout (insertPastes finds its leaf), else the path of an
// older layout; or an error wrapping paste.ErrExists when the id is taken
// in any layout.
func (r *Repo) placePaste(root plumbing.Hash, id string) (string, error) {
	if r.surelyFree(root, id) {
		return "", nil
	}
	_, found, blocked, err := r.walk(root, id)
	if err != nil {
		return "", err
	}
	if found {
		return "", fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrExists)
	}
	place, adaptive := "", len(id) >= minDepth && !blocked
	for _, path := range fixedPaths(id) {
		e, ok, err := r.entryAt(root, path)
		switch {
		case errors.Is(err, errBlocked):
			continue
		case err != nil:
			return "", err
		case ok && e.Mode != filemode.Dir:
			return "", fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrExists)
		case !ok && place == "":
			place = path
		}
	}
	if adaptive {
		return "", nil
	}
	if place == "" { // every path blocked, or a directory
		return "", fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrExists)
	}
	return place, nil
}

// findPaste returns the stored form of paste id in tree root, in any
// layout, or an error wrapping paste.ErrNotFound.
func (r *Repo) findPaste(root plumbing.Hash, id string) ([]byte, error) {
	e, ok, err := r.locate(root, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrNotFound)
	}
	return r.blob(e.Hash)
}

// blob reads blob h; one larger than Limits.Paste is an error wrapping
// ErrObjectTooLarge, and is not read.
func (r *Repo) blob(h plumbing.Hash) ([]byte, error) {
	size, err := r.st.EncodedObjectSize(h)
	if err != nil {
		return nil, missing(h, err)
	}
	if size > r.limits.Paste {
		return nil, fmt.Errorf("blob %s: %d bytes, over the limit of %d: %w", h, size, r.limits.Paste, ErrObjectTooLarge)
	}
	o, err := r.st.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, err
	}
	rd, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}
