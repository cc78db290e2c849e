package repo

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
)

// rebuiltCacheSize bounds packSet.rebuilt, by the objects' sizes: ~2,300
// leaves of ~900 bytes at a million pastes. 4 and 8 MiB (with 4 MiB of
// blocks) measured no better, and raised the completion's peak RSS by up
// to 21 MiB (the heap's GC target doubles what stays live).
const rebuiltCacheSize = 2 * cache.MiByte

// packSet reads the objects of every pack of the repository, each with
// its packIndex. The packs are listed at the first read after close (a
// merge deletes packs), and one just written is added to them (add). A
// pack's file is opened when an object of it is read; at most
// maxOpenPacks stay open. Packs, and the indexes not held in memory, are
// read through blocks (blockcache.go), objects by packReader (packread.go).
type packSet struct {
	files  billy.Filesystem
	dir    string // of the repository on disk; "" in memory (packNames)
	listed bool
	packs  []*setPack // in the order they came: read newest first
	open   []*setPack // those whose file is open, oldest first
	blocks *blockCache
	zr     io.ReadCloser // zlib's reader, reset for each entry
	stream fileStream    // what zr reads
	// rebuilt keeps the trees and commits rebuilt from deltas: at a
	// million pastes the leaf a paste goes to is at the end of a chain of
	// some 25 deltas in the remote's pack, spread over all of it, and the
	// id check, the commit and the push's thin pack each read it, seconds
	// apart (decoded, in the Repo's treeCache, it would cost twice the
	// memory, and that cache turns over with the upper levels' trees).
	// Blobs are not kept: the expiry scan reads every paste once.
	rebuilt   *cache.ObjectLRU
	maxObject int64 // maxPackObject; less in tests
}

type setPack struct {
	path string // without extension
	idx  *packIndex
	p    *packReader // nil until read
}

func newPackSet(files billy.Filesystem, dir string) *packSet {
	return &packSet{files: files, dir: dir, blocks: newBlockCache(), rebuilt: cache.NewObjectLRU(rebuiltCacheSize),
		maxObject: maxPackObject}
}

// settle gives back the memory of the caches: the blocks, the rebuilt
// objects, and the indexes held in memory. Those are what a burst leaves
// most of: a round of the write-ahead log is a pack of its own (up to
// 2 MiB, ~1,000 pastes of 2 KB; an index of ~60 KB), and they stay until
// a repack takes them, past maxPacks of them: 5-8 MB of indexes after a
// minute's load. The packs are closed and listed again at the next read,
// which reads the small indexes back (a few ms for a hundred packs, from
// the page cache), once a burst.
func (s *packSet) settle() error {
	s.blocks.drop()
	s.rebuilt.Clear()
	return s.close()
}

// list lists the packs, once after each close.
func (s *packSet) list() error {
	if s.listed {
		return nil
	}
	names, err := packNames(s.files, s.dir)
	if err != nil {
		return err
	}
	for _, h := range names {
		if err := s.open1(s.files.Join("objects", "pack", "pack-"+h.String())); err != nil {
			s.close()
			return err
		}
	}
	s.listed = true
	return nil
}

// open1 opens the index of the pack at path and adds it to the set.
func (s *packSet) open1(path string) error {
	idx, err := openPackIndex(s.files, path)
	if err != nil {
		return err
	}
	if _, small := idx.idx.(*bytes.Reader); !small {
		idx.idx = s.blocks.file(idx.idx)
	}
	s.packs = append(s.packs, &setPack{path: path, idx: idx})
	return nil
}

// add adds the pack at path, just written; it is found anyway when the
// packs are not listed yet.
func (s *packSet) add(path string) error {
	if !s.listed {
		return nil
	}
	for _, p := range s.packs {
		if p.path == path {
			return nil
		}
	}
	return s.open1(path)
}

// find returns the pack that holds h and its offset there, or nil.
func (s *packSet) find(h plumbing.Hash) (*setPack, int64, error) {
	if err := s.list(); err != nil {
		return nil, 0, err
	}
	for i := len(s.packs) - 1; i >= 0; i-- {
		p := s.packs[i]
		off, err := p.idx.FindOffset(h)
		if err == nil {
			return p, off, nil
		}
		if !errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, 0, err
		}
	}
	return nil, 0, nil
}

func (s *packSet) has(h plumbing.Hash) (bool, error) {
	p, _, err := s.find(h)
	return p != nil, err
}

// get returns object h, or nil when no pack holds it.
func (s *packSet) get(h plumbing.Hash) (plumbing.EncodedObject, error) {
	if o, ok := s.rebuilt.Get(h); ok {
		return o, nil
	}
	p, off, err := s.find(h)
	if p == nil {
		return nil, err
	}
	pr, err := s.packfile(p)
	if err != nil {
		return nil, err
	}
	typ, data, deltas, err := s.object(pr, off)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", h, err)
	}
	o := &packObject{h: h, typ: typ, data: data}
	if deltas > 0 && typ != plumbing.BlobObject {
		s.rebuilt.Put(o)
	}
	return o, nil
}

// size returns the size of object h, and whether a pack holds it.
func (s *packSet) size(h plumbing.Hash) (int64, bool, error) {
	p, off, err := s.find(h)
	if p == nil {
		return 0, false, err
	}
	pr, err := s.packfile(p)
	if err != nil {
		return 0, true, err
	}
	size, err := s.objectSize(pr, off)
	return size, true, err
}

// packfile returns the reader of p's pack, opened when it is not.
func (s *packSet) packfile(p *setPack) (*packReader, error) {
	if p.p != nil {
		return p.p, nil
	}
	if len(s.open) >= maxOpenPacks {
		old := s.open[0]
		s.open = s.open[1:]
		err := old.p.closer.Close()
		old.p = nil
		if err != nil {
			return nil, err
		}
	}
	f, err := s.files.Open(p.path + ".pack")
	if err != nil {
		return nil, err
	}
	// Objects are read whole into memory: they are a paste at most. No
	// cache of delta bases: the trees pasteur reads are mostly at the end
	// of their own chains, whose bases no other read shares; decoded trees
	// are kept by the Repo's treeCache.
	p.p = &packReader{f: s.blocks.file(f), closer: f, idx: p.idx}
	s.open = append(s.open, p)
	return p.p, nil
}

// close closes every pack; the next read lists them again.
func (s *packSet) close() error {
	var err error
	for _, p := range s.packs {
		if p.p != nil {
			if cerr := p.p.closer.Close(); err == nil {
				err = cerr
			}
		}
		if cerr := p.idx.Close(); err == nil {
			err = cerr
		}
	}
	clear(s.packs)
	s.packs, s.open, s.listed = s.packs[:0], nil, false
	return err
}
