package repo

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// Staged is a ref update and the objects written before it, made durable
// in steps so that the owner's lock is not held across the disk's
// flushes: Stage (locked) takes the objects; Write (not locked) encodes
// them as one pack, writes and fsyncs it, its index and the ref's lock file,
// and puts the pack in objects/pack; Finish (locked) makes the pack read
// and moves the ref; Sync (not locked) fsyncs the ref's directory, after
// which the update is durable. Objects written meanwhile stay for the next
// flush. Only a repository on disk without a remote stages: nothing is
// kept in memory for a push.
type Staged struct {
	r       *Repo
	name    plumbing.ReferenceName
	h       plumbing.Hash
	n       int    // objects of the batch in the pack
	gen     uint64 // the batch's, when staged
	objs    []plumbing.EncodedObject
	bases   map[plumbing.Hash]plumbing.Hash // r.versions of objs, when Stage took them
	pack    []byte
	entries []packEntry
	idx     []byte
	sum     plumbing.Hash
	u       *refUpdate
	whole   bool // the pack is written as a merge would write it, and is not merged
}

// stagedMergeBytes is mergeBytes for staged packs, which are larger (a
// log's pastes of 100 ms): a merge holds the packs it merges in memory
// twice, and their entries wait in memory till then.
const stagedMergeBytes = 4 << 20

// ErrStaleStage is returned by Finish when the repository flushed
// between Stage and Finish: the ref is not moved.
var ErrStaleStage = errors.New("repo: the objects were flushed since they were staged")

// Stage takes the objects written so far, for ref name to point at h.
// It is cheap: the pack is encoded by Write.
func (r *Repo) Stage(name plumbing.ReferenceName, h plumbing.Hash) (*Staged, error) {
	if r.disk == nil {
		return nil, errors.New("repo: staging needs a repository on disk")
	}
	objs := make([]plumbing.EncodedObject, len(r.batch.order))
	size := 0
	for i, oh := range r.batch.order {
		objs[i] = r.batch.objs[oh]
		size += maxEntryHeader + storedSize(objs[i].Size())
	}
	var bases map[plumbing.Hash]plumbing.Hash
	if size >= stagedWholeBytes {
		// Write reads them without the lock.
		bases = make(map[plumbing.Hash]plumbing.Hash)
		for _, o := range objs {
			if b, ok := r.versions[o.Hash()]; ok {
				bases[o.Hash()] = b
			}
		}
	}
	return &Staged{r: r, name: name, h: h, n: len(objs), gen: r.batch.gen, objs: objs, bases: bases}, nil
}

// encode makes the pack and its index. The objects are encoded into the
// pack, and their entries are its slices: encoded apart and copied into
// the pack, each object's bytes were allocated and copied once more.
func (s *Staged) encode() error {
	if len(s.objs) == 0 {
		return nil
	}
	size := 12 + sha1.Size // about: a deflated object may differ
	for _, o := range s.objs {
		size += maxEntryHeader + storedSize(o.Size())
	}
	if s.bases != nil {
		return s.encodeWhole(size)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.Write([]byte{'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0}) // the count, below
	var enc entryEncoder
	offs := make([]int, 0, len(s.objs)+1)
	seen := make(map[plumbing.Hash]bool, len(s.objs))
	kept := s.objs[:0:0]
	for _, o := range s.objs {
		if seen[o.Hash()] {
			continue
		}
		seen[o.Hash()] = true
		offs = append(offs, buf.Len())
		if err := enc.encodeTo(buf, o); err != nil {
			return err
		}
		kept = append(kept, o)
	}
	offs = append(offs, buf.Len())
	binary.BigEndian.PutUint32(buf.Bytes()[8:12], uint32(len(kept)))
	sum := sha1.Sum(buf.Bytes())
	buf.Write(sum[:])
	pack := buf.Bytes()
	s.entries = make([]packEntry, len(kept))
	objs := make([]packObj, len(kept))
	for i, o := range kept {
		data := pack[offs[i]:offs[i+1]:offs[i+1]]
		s.entries[i] = packEntry{hash: o.Hash(), data: data}
		objs[i] = packObj{off: int64(offs[i]), hash: o.Hash(), crc: crc32.ChecksumIEEE(data)}
	}
	s.pack, s.sum = pack, plumbing.Hash(sum)
	return s.index(objs)
}

// index makes the index of the staged pack, whose objects are objs.
func (s *Staged) index(objs []packObj) error {
	slices.SortFunc(objs, byHash)
	var idx bytes.Buffer
	if err := writeIdx(&idx, objs, s.sum); err != nil {
		return err
	}
	s.idx = idx.Bytes()
	return nil
}

// Write writes the pack and the ref's lock file, fsynced, and installs the
// pack. It touches no state of the repository but its files.
func (s *Staged) Write() error {
	if err := s.encode(); err != nil {
		return err
	}
	s.u = s.r.disk.prepareRef(s.name, s.h)
	var err error
	if s.pack != nil {
		s.r.staging.set(s.sum, true) // before it is installed: a repack leaves it
		p := &Received{dir: filepath.Join(s.r.disk.dir, "objects"), sum: s.sum}
		err = p.writeMade(s.pack, s.idx)
		if err == nil {
			err = s.r.install(p)
		}
		if err != nil {
			p.Discard()
		}
	}
	// The lock file too, so that Finish waits for no disk.
	if werr := <-s.u.written; err == nil {
		err = werr
	}
	if err != nil {
		_ = os.Remove(s.u.lock)
	}
	return err
}

// Finish reads the pack from here on and moves the ref (not yet durably:
// see Sync). It follows a Write that succeeded.
func (s *Staged) Finish() error {
	err := s.finish()
	if s.pack != nil {
		s.r.staging.set(s.sum, false) // in r.small, or left (stale) for a repack
	}
	if err == nil {
		err = os.Rename(s.u.lock, s.u.path)
	}
	if err != nil {
		_ = os.Remove(s.u.lock)
	}
	if err != ErrStaleStage {
		s.r.noteRef(s.name, s.h, err)
	}
	return err
}

func (s *Staged) finish() error {
	r := s.r
	if r.batch.gen != s.gen {
		return ErrStaleStage
	}
	if s.pack == nil {
		return nil
	}
	if err := r.batch.readPack(r.packPath(s.sum)); err != nil {
		return err
	}
	if s.whole {
		// Written as a merge writes: nothing to merge again.
		for _, o := range s.objs {
			delete(r.versions, o.Hash())
		}
		r.batch.resetFirst(s.n)
		return nil
	}
	r.small = append(r.small, smallPack{sum: s.sum, entries: s.entries})
	r.smallBytes += len(s.pack)
	r.batch.resetFirst(s.n)
	if len(r.small) >= mergePacks || r.smallBytes >= stagedMergeBytes {
		return r.mergeSmall()
	}
	return nil
}

// Sync makes the moved ref durable.
func (s *Staged) Sync() error { return fsyncPath(filepath.Dir(s.u.path)) }
