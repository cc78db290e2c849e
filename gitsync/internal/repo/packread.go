package repo

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// packReader reads the objects of one pack by offset, through the
// packSet's blockCache. It replaces go-git's reader, which for each object
// of a delta chain seeks, drops its buffer and reads 4 KiB again, passes
// every byte it reads through a CRC-32 and a SHA-1 with collision
// detection (to verify a whole pack as it streams by, which a read by
// offset never does), and returns objects whose hash is computed again,
// with that SHA-1, when asked for. The hash of an object read here is the
// one it was looked up by, its index's word; the pack was verified when it
// was indexed (fetched) or written.
type packReader struct {
	f      *cachedFile
	closer io.Closer
	idx    *packIndex
}

// maxPackObject bounds an object read from a pack, inflated or rebuilt
// (packSet.maxObject): what a pack on disk declares is not allocated
// beyond it. The packs fetched were refused beyond Limits.Object already.
const maxPackObject = 1 << 30

// entryHeader is the header of a pack entry.
type entryHeader struct {
	typ  plumbing.ObjectType
	size int64
	base int64         // OFS_DELTA: the offset of the base
	ref  plumbing.Hash // REF_DELTA: the base's hash
	data int64         // the offset of the zlib stream
}

// header reads the header of the entry at off, of an object of up to max
// bytes.
func (r *packReader) header(off, max int64) (entryHeader, error) {
	var buf [10 + 10 + 20]byte // type and size, then an offset or a hash
	n, err := r.f.ReadAt(buf[:], off)
	if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
		return entryHeader{}, err
	}
	b := buf[:n]
	bad := fmt.Errorf("entry at %d: %w", off, errBadEntry)
	if len(b) == 0 {
		return entryHeader{}, bad
	}
	h := entryHeader{typ: plumbing.ObjectType(b[0] >> 4 & 7), size: int64(b[0] & 0x0f)}
	i := 1
	for shift := 4; b[i-1]&0x80 != 0; shift += 7 {
		if i >= len(b) || shift > 56 {
			return entryHeader{}, bad
		}
		h.size |= int64(b[i]&0x7f) << shift
		i++
	}
	switch h.typ {
	case plumbing.OFSDeltaObject:
		if i >= len(b) {
			return entryHeader{}, bad
		}
		c := b[i]
		i++
		dist := int64(c & 0x7f)
		for c&0x80 != 0 {
			if i >= len(b) || dist >= 1<<56 {
				return entryHeader{}, bad
			}
			c = b[i]
			i++
			dist = (dist+1)<<7 | int64(c&0x7f)
		}
		if dist <= 0 || dist > off {
			return entryHeader{}, bad
		}
		h.base = off - dist
	case plumbing.REFDeltaObject:
		if i+20 > len(b) {
			return entryHeader{}, bad
		}
		copy(h.ref[:], b[i:i+20])
		i += 20
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
	default:
		return entryHeader{}, bad
	}
	if h.size > max {
		return entryHeader{}, fmt.Errorf("entry at %d: %d bytes, over %d: %w", off, h.size, max, errBadEntry)
	}
	h.data = off + int64(i)
	return h, nil
}

// errBadEntry: a pack entry that is not one git writes.
var errBadEntry = errors.New("malformed pack entry")

// inflate returns the contents of the entry whose header is h: the
// object, or the delta. The entries pasteur writes are mostly zlib streams
// of stored blocks, copied out as they are.
func (s *packSet) inflate(r *packReader, h entryHeader) ([]byte, error) {
	if h.size <= storeMax {
		// A stored stream: 2 bytes of header, 5 a block, 4 of checksum.
		z := make([]byte, 2+5+h.size+4)
		if n, err := r.f.ReadAt(z, h.data); err == nil || n == len(z) {
			if data, ok := readStored(z, h.size); ok {
				return data, nil
			}
		}
	}
	st := &s.stream
	st.reset(r.f, h.data)
	var err error
	if s.zr == nil {
		s.zr, err = zlib.NewReader(st)
	} else {
		err = s.zr.(zlib.Resetter).Reset(st, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("entry at %d: %w", h.data, err)
	}
	// Grown as it is inflated: what a damaged header declares is not
	// allocated at once (bytes.Buffer grows with MinRead bytes free).
	out := bytes.NewBuffer(make([]byte, 0, min(h.size, 1<<20)+bytes.MinRead))
	if n, err := io.CopyN(out, s.zr, h.size); err != nil {
		return nil, fmt.Errorf("entry at %d: %d bytes of %d: %w", h.data, n, h.size, err)
	}
	data := out.Bytes()
	// The stream ends there, and its checksum is read.
	var one [1]byte
	if n, err := s.zr.Read(one[:]); n != 0 || !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("entry at %d: more than %d bytes (%v)", h.data, h.size, err)
	}
	return data, nil
}

// object returns the type and contents of the object at off in r's pack,
// rebuilt from its deltas, and how many deltas that took.
func (s *packSet) object(r *packReader, off int64) (plumbing.ObjectType, []byte, int, error) {
	var deltas [][]byte // the outermost first
	for {
		if len(deltas) > maxDeltaDepth {
			return 0, nil, 0, fmt.Errorf("delta chain at %d longer than %d", off, maxDeltaDepth)
		}
		h, err := r.header(off, s.maxObject)
		if err != nil {
			return 0, nil, 0, err
		}
		data, err := s.inflate(r, h)
		if err != nil {
			return 0, nil, 0, err
		}
		switch h.typ {
		case plumbing.OFSDeltaObject:
			deltas = append(deltas, data)
			off = h.base
			continue
		case plumbing.REFDeltaObject:
			deltas = append(deltas, data)
			// A pack holds the bases of its deltas (a thin one fetched
			// is completed before it is kept).
			if off, err = r.idx.FindOffset(h.ref); err != nil {
				return 0, nil, 0, fmt.Errorf("base %s: %w", h.ref, err)
			}
			continue
		}
		for i := len(deltas) - 1; i >= 0; i-- {
			if _, dst, err := deltaSizes(deltas[i]); err != nil || dst > s.maxObject {
				return 0, nil, 0, fmt.Errorf("delta of %d bytes: %w (%v)", dst, errBadEntry, err)
			}
			if data, err = patch(data, deltas[i]); err != nil {
				return 0, nil, 0, err
			}
		}
		return h.typ, data, len(deltas), nil
	}
}

// patch applies delta to base. go-git's PatchDelta refuses an empty base,
// which git may write (an empty blob), and ApplyDelta takes objects.
func patch(base, delta []byte) ([]byte, error) {
	if len(base) > 0 {
		return packfile.PatchDelta(base, delta)
	}
	var b, t plumbing.MemoryObject
	if err := packfile.ApplyDelta(&t, &b, delta); err != nil {
		return nil, err
	}
	return contents(&t)
}

// objectSize returns the size of the object at off in r's pack.
func (s *packSet) objectSize(r *packReader, off int64) (int64, error) {
	h, err := r.header(off, s.maxObject)
	if err != nil || !h.typ.IsDelta() {
		return h.size, err
	}
	delta, err := s.inflate(r, h)
	if err != nil {
		return 0, err
	}
	_, dst, err := deltaSizes(delta)
	return dst, err
}

// packObject is an object read from a pack, with the hash it was found by.
type packObject struct {
	h    plumbing.Hash
	typ  plumbing.ObjectType
	data []byte
}

func (o *packObject) Hash() plumbing.Hash           { return o.h }
func (o *packObject) Type() plumbing.ObjectType     { return o.typ }
func (o *packObject) SetType(t plumbing.ObjectType) { o.typ = t }
func (o *packObject) Size() int64                   { return int64(len(o.data)) }
func (o *packObject) SetSize(int64)                 {}
func (o *packObject) Reader() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.data)), nil
}
func (o *packObject) Writer() (io.WriteCloser, error) { return nil, errReadOnly }

// errReadOnly: an object read from a pack is not written to.
var errReadOnly = errors.New("object read from a pack")
