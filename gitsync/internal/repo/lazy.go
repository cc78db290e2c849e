package repo

import (
	"bytes"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Objects are objects fetched by hash into a partial repository (a few
// trees and blobs), read from a small pack, not yet stored.
type Objects struct {
	st     *memory.Storage
	hashes []plumbing.Hash
}

// Hashes returns the objects' hashes.
func (o *Objects) Hashes() []plumbing.Hash { return o.hashes }

// ReadObjects reads a packfile of objects fetched by hash from rd, within
// r's Limits (a pack beyond them is an error wrapping ErrRefusedPack). It
// touches no state of r, so it may run without the lock that guards r.
func (r *Repo) ReadObjects(rd io.Reader) (*Objects, error) {
	b, err := io.ReadAll(&cappedReader{r: rd, max: r.limits.Pack})
	if err != nil {
		return nil, fmt.Errorf("read pack: %w", err)
	}
	// Indexed first, within the limits: go-git's parser would inflate
	// whatever the remote sent.
	objs, _, err := indexPack(bytes.NewReader(b), r.limits, int64(len(b)), nil)
	if err != nil {
		return nil, fmt.Errorf("index pack: %w", err)
	}
	st := memory.NewStorage()
	if err := packfile.UpdateObjectStorage(st, bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("parse pack: %w", err)
	}
	o := &Objects{st: st}
	for _, e := range objs {
		o.hashes = append(o.hashes, e.hash)
	}
	return o, nil
}

// AddObjects stores o in the repository, durably.
func (r *Repo) AddObjects(o *Objects) error {
	iter, err := o.st.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		return err
	}
	err = iter.ForEach(func(obj plumbing.EncodedObject) error {
		if r.Has(obj.Hash()) {
			return nil
		}
		_, err := r.st.SetEncodedObject(obj)
		return err
	})
	if err != nil {
		return err
	}
	return r.flush()
}
