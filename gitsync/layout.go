package gitsync

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
// A new paste is the file ID[0:2]/ID: a directory per two-character prefix
// keeps each tree small (36² two-character directories at most at the root
// for new, lower-case ids), so each commit rewrites two small trees rather
// than one that grows with every paste. A one-character id has a one-character
// directory: "a/a".
//
// The original pasteur kept every paste at the root, as the file ID; those
// are still read, and a root file named like a directory-to-be (an original
// id of two characters, say "ab") would block "ab/abc...": such a paste is
// then written at the root too, where it is read as well. Directories are
// recognised by their mode: a root entry "ab" that is a directory is a
// prefix, one that is a file is the paste "ab".

// shardPath is where a new paste named id goes.
func shardPath(id string) string {
	if len(id) < 2 {
		return id + "/" + id
	}
	return id[:2] + "/" + id
}

// placePaste returns the path for a new paste named id in tree root, or an
// error wrapping paste.ErrExists when the id is taken in either layout.
func (r *repo) placePaste(root plumbing.Hash, id string) (string, error) {
	e, ok, err := r.entryAt(root, id)
	if err != nil {
		return "", err
	}
	if ok && e.Mode != filemode.Dir {
		return "", fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrExists)
	}
	path := shardPath(id)
	_, taken, err := r.entryAt(root, path)
	switch {
	case errors.Is(err, errBlocked):
		if ok { // a directory named id: not ours, leave it alone
			return "", fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrExists)
		}
		return id, nil
	case err != nil:
		return "", err
	case taken:
		return "", fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrExists)
	}
	return path, nil
}

// findPaste returns the stored form of paste id in tree root, in either
// layout, or an error wrapping paste.ErrNotFound.
func (r *repo) findPaste(root plumbing.Hash, id string) ([]byte, error) {
	for _, path := range []string{shardPath(id), id} {
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

// blob reads blob h.
func (r *repo) blob(h plumbing.Hash) ([]byte, error) {
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
