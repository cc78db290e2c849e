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

// thinPack is what indexPack needs to complete a thin pack: where to
// read the bases it lacks, and where to put them.
type thinPack struct {
	bases Bases
	put   func(e packEntry) error // appends e where the pack's checksum was, or after the last
	n     int                     // bases put

	// a pack in a file (fileThinPack)
	f   *os.File
	end int64 // where the next base goes
}

// fileThinPack completes the thin pack in f, of size bytes: each base
// is written as it is read, none held (finish completes the pack).
func fileThinPack(f *os.File, size int64, bases Bases) *thinPack {
	t := &thinPack{bases: bases, f: f, end: size - sha1.Size}
	t.put = func(e packEntry) error {
		if t.n == 0 {
			if err := f.Truncate(t.end); err != nil { // the checksum
				return err
			}
		}
		_, err := f.WriteAt(e.data, t.end)
		t.end += int64(len(e.data))
		return err
	}
	return t
}

// finish writes the count of objects of the completed pack in f, and
// its checksum, and returns that and its size.
func (t *thinPack) finish(count uint32) (plumbing.Hash, int64, error) {
	if _, err := t.f.WriteAt(binary.BigEndian.AppendUint32(nil, count), 8); err != nil {
		return plumbing.ZeroHash, 0, err
	}
	h := sha1.New()
	if _, err := io.Copy(h, io.NewSectionReader(t.f, 0, t.end)); err != nil {
		return plumbing.ZeroHash, 0, err
	}
	sum := plumbing.Hash(h.Sum(nil))
	if _, err := t.f.WriteAt(sum[:], t.end); err != nil {
		return plumbing.ZeroHash, 0, err
	}
	return sum, t.end + sha1.Size, nil
}

// completeThin resolves the deltas whose bases the pack lacks with
// thin.bases, and puts those bases, whole, at end (where the pack's
// checksum starts) and after, in order. A base the repository lacks is
// left: it may be in the pack as a delta resolved later; if not,
// indexPack finds its deltas unresolved.
func (x *indexer) completeThin(thin *thinPack, end int64) error {
	var enc entryEncoder
	for j := 0; j < len(x.ref); j++ {
		k := x.ref[j]
		if j > 0 && x.ref[j-1].base == k.base || !x.objs[k.i].hash.IsZero() {
			continue // its base was appended or resolved in the pack
		}
		typ, data, err := thin.bases(k.base)
		if _, ok := Missing(err); ok {
			continue
		}
		if err != nil {
			return fmt.Errorf("base %s of a thin pack: %w", k.base, err)
		}
		if int64(len(data)) > x.lim.Object {
			return refuse("base %s of a thin pack has %d bytes, over the limit of %d", k.base, len(data), x.lim.Object)
		}
		if plumbing.ComputeHash(typ, data) != k.base {
			return fmt.Errorf("base %s of a thin pack: the repository's object differs", k.base)
		}
		if err := x.inflated.take(int64(len(data))); err != nil {
			return err
		}
		e, err := enc.entry(k.base, typ, nil, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return err
		}
		if err := thin.put(e); err != nil {
			return fmt.Errorf("complete thin pack: %w", err)
		}
		thin.n++
		x.objs = append(x.objs, packObj{off: end, hash: k.base, typ: typ, crc: crc32.ChecksumIEEE(e.data)})
		end += int64(len(e.data))
		x.held = int64(len(data))
		if err := x.resolve(len(x.objs)-1, data, 0); err != nil {
			return err
		}
	}
	return nil
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
