package repo

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage"
)

// batch is the storage of a repository, seen through the objects written
// since the last flush, which it keeps in memory. flush writes them as one
// packfile, fsynced: go-git would write a loose object file each, and for
// a group of pastes (a blob and a tree or two each) the creation of those
// files cost more than all the rest of a commit.
//
// The objects of the last flush stay readable from memory too (prev), with
// their packfile: the push that follows a commit sends that very pack when
// the remote is at the commit's parent, and reads them from memory to build
// another one otherwise.
//
// The packs that flush wrote since the last merge are read through the
// batch too (packs), with the indexes pasteur wrote for them: go-git's
// storage only sees packs when it lists them again, which costs a reading
// of every index, and is left to merges and fetches.
type batch struct {
	storage.Storer
	objs     map[plumbing.Hash]plumbing.EncodedObject
	prev     map[plumbing.Hash]plumbing.EncodedObject
	order    []plumbing.Hash
	prevPack []byte // prev as a packfile; nil when it went out as loose objects
	packs    []*packfile.Packfile
	cache    cache.Object // decoded objects of packs, shared with go-git's storage
	enc      entryEncoder // kept from flush to flush, with its zlib writer
	gen      uint64       // counts the flushes (see Staged)
}

func newBatch(st storage.Storer, objects cache.Object) *batch {
	return &batch{Storer: st, cache: objects,
		objs: make(map[plumbing.Hash]plumbing.EncodedObject),
		prev: make(map[plumbing.Hash]plumbing.EncodedObject)}
}

// SetEncodedObject keeps o in memory, until flush.
func (b *batch) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	h := o.Hash()
	if _, ok := b.objs[h]; !ok {
		b.objs[h] = o
		b.order = append(b.order, h)
	}
	return h, nil
}

func (b *batch) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	o, ok := b.objs[h]
	if !ok {
		o, ok = b.prev[h]
	}
	if !ok {
		for _, p := range b.packs {
			var err error
			o, err = p.Get(h)
			if err == nil {
				ok = true
				break
			}
			if !errors.Is(err, plumbing.ErrObjectNotFound) {
				return nil, err
			}
		}
	}
	if ok {
		if t != plumbing.AnyObject && o.Type() != t {
			return nil, plumbing.ErrObjectNotFound
		}
		return o, nil
	}
	return b.Storer.EncodedObject(t, h)
}

func (b *batch) HasEncodedObject(h plumbing.Hash) error {
	if _, ok := b.objs[h]; ok {
		return nil
	}
	for _, p := range b.packs {
		if ok, err := p.Contains(h); ok && err == nil {
			return nil
		}
	}
	return b.Storer.HasEncodedObject(h)
}

func (b *batch) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	if o, ok := b.objs[h]; ok {
		return o.Size(), nil
	}
	for _, p := range b.packs {
		if off, err := p.FindOffset(h); err == nil {
			return p.GetSizeByOffset(off)
		}
	}
	return b.Storer.EncodedObjectSize(h)
}

// readPack adds the pack at path (without extension) in files, whose index
// is idx, to the packs read through the batch.
func (b *batch) readPack(files billy.Filesystem, path string, idx []byte) error {
	index := idxfile.NewMemoryIndex()
	if err := idxfile.NewDecoder(bytes.NewReader(idx)).Decode(index); err != nil {
		return fmt.Errorf("read own index: %w", err)
	}
	f, err := files.Open(path + ".pack")
	if err != nil {
		return err
	}
	b.packs = append(b.packs, packfile.NewPackfileWithCache(index, nil, f, b.cache, 0))
	return nil
}

// closePacks stops reading the packs added by readPack.
func (b *batch) closePacks() error {
	var err error
	for _, p := range b.packs {
		if cerr := p.Close(); err == nil {
			err = cerr
		}
	}
	clear(b.packs)
	b.packs = b.packs[:0]
	return err
}

// lastPack returns the packfile of the last flush when it holds commit h:
// then it holds the trees that h adds to its parent, but not always the
// blobs (a replayed commit reuses those of the commit it copies): see
// inLast.
func (b *batch) lastPack(h plumbing.Hash) []byte {
	if _, ok := b.prev[h]; !ok {
		return nil
	}
	return b.prevPack
}

// inLast reports whether the last flush wrote every object of hashes.
func (b *batch) inLast(hashes []plumbing.Hash) bool {
	for _, h := range hashes {
		if _, ok := b.prev[h]; !ok {
			return false
		}
	}
	return true
}

// entries encodes the objects in memory as packfile entries; nil when
// there are none.
func (b *batch) entries() ([]packEntry, error) {
	entries := make([]packEntry, 0, len(b.order))
	for _, h := range b.order {
		e, err := b.enc.encode(b.objs[h])
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// reset keeps the objects in memory as the last flush's, once they are
// stored (as pack, or as loose objects when pack is nil), and forgets the
// flush before.
func (b *batch) reset(pack []byte) {
	b.prevPack = pack
	b.prev, b.objs = b.objs, b.prev
	clear(b.objs)
	b.order = b.order[:0]
	b.gen++
}

// resetFirst forgets the first n objects written, stored in a pack that
// is read from here on, and the last flush's; the objects written after
// them stay for the next flush.
func (b *batch) resetFirst(n int) {
	b.prevPack = nil
	clear(b.prev)
	for _, h := range b.order[:n] {
		delete(b.objs, h)
	}
	b.order = append(b.order[:0], b.order[n:]...)
	b.gen++
}
