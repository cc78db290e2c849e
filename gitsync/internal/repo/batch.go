package repo

import (
	"errors"
	"io"
	"io/fs"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/objfile"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
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
// Every pack is read through the batch (packs), with indexes read from
// disk (packindex.go), and loose objects too: go-git's storage, which
// would decode the index of every pack into memory, holds the references
// and writes loose objects, but reads no object.
type batch struct {
	storage.Storer
	objs     map[plumbing.Hash]plumbing.EncodedObject
	prev     map[plumbing.Hash]plumbing.EncodedObject
	order    []plumbing.Hash
	prevPack []byte // prev as a packfile; nil when it went out as loose objects
	packs    *packSet
	dot      *dotgit.DotGit // for loose objects
	cache    cache.Object   // decoded objects, shared with go-git's storage
	enc      entryEncoder   // kept from flush to flush, with its zlib writer
	gen      uint64         // counts the flushes (see Staged)
}

func newBatch(st storage.Storer, files billy.Filesystem, dir string, objects cache.Object) *batch {
	return &batch{Storer: st, cache: objects, dot: dotgit.New(files), packs: newPackSet(files, dir),
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
		var err error
		if o, err = b.packs.get(h); err != nil {
			return nil, err
		}
		ok = o != nil
	}
	if !ok {
		var err error
		if o, err = b.loose(h); err != nil {
			return nil, err
		}
	}
	if t != plumbing.AnyObject && o.Type() != t {
		return nil, plumbing.ErrObjectNotFound
	}
	return o, nil
}

func (b *batch) HasEncodedObject(h plumbing.Hash) error {
	if _, ok := b.objs[h]; ok {
		return nil
	}
	if _, ok := b.prev[h]; ok {
		return nil
	}
	ok, err := b.packs.has(h)
	if ok || err != nil {
		return err
	}
	f, err := b.dot.Object(h)
	if err != nil {
		return looseErr(err)
	}
	return f.Close()
}

func (b *batch) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	if o, ok := b.objs[h]; ok {
		return o.Size(), nil
	}
	if o, ok := b.prev[h]; ok {
		return o.Size(), nil
	}
	if size, ok, err := b.packs.size(h); ok || err != nil {
		return size, err
	}
	f, err := b.dot.Object(h)
	if err != nil {
		return 0, looseErr(err)
	}
	defer f.Close()
	rd, err := objfile.NewReader(f)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	_, size, err := rd.Header()
	return size, err
}

// loose reads loose object h.
func (b *batch) loose(h plumbing.Hash) (plumbing.EncodedObject, error) {
	if o, ok := b.cache.Get(h); ok {
		return o, nil
	}
	f, err := b.dot.Object(h)
	if err != nil {
		return nil, looseErr(err)
	}
	defer f.Close()
	rd, err := objfile.NewReader(f)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	typ, size, err := rd.Header()
	if err != nil {
		return nil, err
	}
	o := &plumbing.MemoryObject{}
	o.SetType(typ)
	o.SetSize(size)
	w, err := o.Writer()
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, rd); err != nil {
		return nil, err
	}
	b.cache.Put(o)
	return o, nil
}

// looseErr turns the absence of a loose object's file into
// plumbing.ErrObjectNotFound.
func looseErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return plumbing.ErrObjectNotFound
	}
	return err
}

// readPack adds the pack at path (without extension) in files, just
// written, to the packs read.
func (b *batch) readPack(path string) error {
	return b.packs.add(path)
}

// closePacks closes the packs read, to be listed again at the next read.
func (b *batch) closePacks() error {
	return b.packs.close()
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
