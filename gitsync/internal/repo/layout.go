package repo

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/pasteur-dev/pasteur/paste"
)

// Where pastes live in the tree of the branch.
//
// A new paste is the file ID[0]/ID[1]/ID: two levels of one-character
// directories (at most 62 entries each for [A-Za-z0-9], 36 for the
// lower-case ids pasteur makes), so each commit rewrites three small trees.
// The root stays small however many pastes there are: at 100,000 pastes a
// commit writes about 5 KB of trees, where the ID[0:2]/ID layout wrote a
// root of 1,296 entries (38 KB) each time; see docs/FORMAT.md and
// BENCHMARKS.md. A one-character id is "_/ID". Ids pasteur makes have no
// '_', but the original's newest alphabet has: a file "_/a" (the paste
// "a") where the paste "_a" needs the directory "_/a" is a blocked path,
// handled as below.
//
// Two older layouts are read too, and their files keep their ids: the
// original pasteur's, every paste at the root as the file ID, and
// ID[0:2]/ID (pasteur before the nested layout; ID/ID for one character).
// A file of an older layout can block a path of the new one (an original
// paste "a" is a file where the directory "a" would go): the new paste then
// goes where the older layouts would have put it. Directories are
// recognised by their mode: a root entry "ab" that is a directory is a
// prefix, one that is a file is the paste "ab".

// shardPath is where a new paste named id goes.
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

// pastePaths are the paths paste id may have, the new layout's first.
func pastePaths(id string) []string {
	return []string{shardPath(id), twoPath(id), id}
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

// placePaste returns the path for a new paste named id in tree root, or an
// error wrapping paste.ErrExists when the id is taken in any layout.
func (r *Repo) placePaste(root plumbing.Hash, id string) (string, error) {
	place := ""
	for _, path := range pastePaths(id) {
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
	if place == "" { // every path blocked, or a directory
		return "", fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrExists)
	}
	return place, nil
}

// findPaste returns the stored form of paste id in tree root, in any
// layout, or an error wrapping paste.ErrNotFound.
func (r *Repo) findPaste(root plumbing.Hash, id string) ([]byte, error) {
	for _, path := range pastePaths(id) {
		e, ok, err := r.entryAt(root, path)
		if errors.Is(err, errBlocked) || err == nil && (!ok || !e.Mode.IsFile()) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return r.blob(e.Hash)
	}
	return nil, fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrNotFound)
}

// blob reads blob h; one larger than Limits.Paste is an error wrapping
// ErrObjectTooLarge, and is not read.
func (r *Repo) blob(h plumbing.Hash) ([]byte, error) {
	size, err := r.st.EncodedObjectSize(h)
	if err != nil {
		return nil, err
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
