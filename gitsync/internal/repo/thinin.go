package repo

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/go-git/go-git/v5/plumbing"
)

// A thin pack, as git upload-pack sends when asked for "thin-pack", holds
// deltas whose bases it leaves out because the fetching side has them:
// the objects of the commits it named as haves, and for a deepening fetch
// those of its shallow boundary. Without it, a deepening fetch gets each
// tree that the new commits changed whole, and the blobs of the commits
// it unshallows again. A thin pack is completed as git index-pack
// --fix-thin does: each base it lacks is read from the repository and
// appended to it, whole, and its count and checksum are rewritten; the
// pack on disk then holds every base of its deltas, as git requires.

// ErrMissingBase: a delta of a thin pack has its base neither in the pack
// nor in the repository.
var ErrMissingBase = errors.New("its base is neither in the pack nor in the repository")

// Bases reads an object of the repository, for the deltas of a thin pack:
// its type and contents, or an error wrapping *MissingError when it is not
// there.
type Bases func(h plumbing.Hash) (plumbing.ObjectType, []byte, error)

// Object returns the type and contents of object h, as Bases does.
func (r *Repo) Object(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	o, err := r.st.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return plumbing.InvalidObject, nil, missing(h, err)
	}
	if o.Size() > r.limits.Object {
		return plumbing.InvalidObject, nil, refuse("object %s has %d bytes, over the limit of %d", h, o.Size(), r.limits.Object)
	}
	rd, err := o.Reader()
	if err != nil {
		return plumbing.InvalidObject, nil, err
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	return o.Type(), b, err
}

// completeThin resolves the deltas whose bases the pack lacks with bases,
// and returns those bases as entries to append to the pack at end (where
// its checksum starts), in order. A base the repository lacks is left:
// it may be in the pack as a delta resolved later; if not, indexPack
// finds its deltas unresolved.
func (x *indexer) completeThin(bases Bases, end int64) ([]packEntry, error) {
	var (
		thin []packEntry
		enc  entryEncoder
	)
	for j := 0; j < len(x.ref); j++ {
		k := x.ref[j]
		if j > 0 && x.ref[j-1].base == k.base || !x.objs[k.i].hash.IsZero() {
			continue // its base was appended or resolved in the pack
		}
		typ, data, err := bases(k.base)
		if _, ok := Missing(err); ok {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("base %s of a thin pack: %w", k.base, err)
		}
		if int64(len(data)) > x.lim.Object {
			return nil, refuse("base %s of a thin pack has %d bytes, over the limit of %d", k.base, len(data), x.lim.Object)
		}
		if plumbing.ComputeHash(typ, data) != k.base {
			return nil, fmt.Errorf("base %s of a thin pack: the repository's object differs", k.base)
		}
		if err := x.inflated.take(int64(len(data))); err != nil {
			return nil, err
		}
		e, err := enc.entry(k.base, typ, nil, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, err
		}
		x.objs = append(x.objs, packObj{off: end, hash: k.base, typ: typ, crc: crc32.ChecksumIEEE(e.data)})
		end += int64(len(e.data))
		thin = append(thin, e)
		x.held = int64(len(data))
		if err := x.resolve(len(x.objs)-1, data, 0); err != nil {
			return nil, err
		}
	}
	return thin, nil
}

// appendBases returns pack, of count objects, with the entries of thin
// appended, and its checksum.
func appendBases(pack []byte, count uint32, thin []packEntry) ([]byte, plumbing.Hash) {
	pack = pack[:len(pack)-sha1.Size]
	for _, e := range thin {
		pack = append(pack, e.data...)
	}
	binary.BigEndian.PutUint32(pack[8:12], count)
	sum := plumbing.Hash(sha1.Sum(pack))
	return append(pack, sum[:]...), sum
}

// appendBasesFile is appendBases for the pack in f, of size bytes; it
// returns its checksum and new size.
func appendBasesFile(f *os.File, size int64, count uint32, thin []packEntry) (plumbing.Hash, int64, error) {
	end := size - sha1.Size
	if err := f.Truncate(end); err != nil {
		return plumbing.ZeroHash, 0, err
	}
	for _, e := range thin {
		if _, err := f.WriteAt(e.data, end); err != nil {
			return plumbing.ZeroHash, 0, err
		}
		end += int64(len(e.data))
	}
	if _, err := f.WriteAt(binary.BigEndian.AppendUint32(nil, count), 8); err != nil {
		return plumbing.ZeroHash, 0, err
	}
	h := sha1.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, end)); err != nil {
		return plumbing.ZeroHash, 0, err
	}
	sum := plumbing.Hash(h.Sum(nil))
	if _, err := f.WriteAt(sum[:], end); err != nil {
		return plumbing.ZeroHash, 0, err
	}
	return sum, end + sha1.Size, nil
}
