package repo

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// A Staged of stagedWholeBytes or more (the commits of a log's pastes
// under a sustained load) is written as mergeSmall would write it: each
// tree and commit whose earlier version comes before it in the pack as a
// delta against it, when smaller. Such a pack is large enough to stay as
// it is, and is not merged: each byte the commits made is encoded,
// written and fsynced once, where a staged pack of stored objects had it
// decoded, delta'd and written again by the merge. A smaller Staged is
// written as before and merged with the others later, so that the packs
// of a light load do not pile up.
const stagedWholeBytes = 1 << 20

// encodeWhole makes the pack of s.objs with deltas, and its index; size
// is about the pack's length with every object whole.
func (s *Staged) encodeWhole(size int) error {
	out := bytes.NewBuffer(make([]byte, 0, size))
	out.Write([]byte{'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0}) // the count, below
	type placed struct {
		off   int64
		depth int
		data  []byte // a tree's or commit's contents, a base for those after it
	}
	at := make(map[plumbing.Hash]placed, len(s.objs))
	objs := make([]packObj, 0, len(s.objs))
	var enc entryEncoder
	for _, o := range s.objs {
		h := o.Hash()
		if _, ok := at[h]; ok {
			continue
		}
		off := int64(out.Len())
		p := placed{off: off}
		if o.Type() == plumbing.BlobObject {
			// Never a base nor a delta: encoded from the object.
			if err := enc.encodeTo(out, o); err != nil {
				return err
			}
		} else if err := s.encodeVersion(&enc, out, o, &p.depth, &p.data, func(base plumbing.Hash) (int64, int, []byte, bool) {
			b, ok := at[base]
			return b.off, b.depth, b.data, ok
		}); err != nil {
			return err
		}
		at[h] = p
		objs = append(objs, packObj{off: off, hash: h, crc: crc32.ChecksumIEEE(out.Bytes()[off:])})
	}
	pack := out.Bytes()
	binary.BigEndian.PutUint32(pack[8:12], uint32(len(objs)))
	sum := sha1.Sum(pack)
	pack = append(pack, sum[:]...)
	s.pack, s.sum, s.whole = pack, plumbing.Hash(sum), true
	return s.index(objs)
}

// encodeVersion appends tree or commit o to out, as an OFS_DELTA against
// the version it replaces when that comes before it (placed reports
// where, its depth and its contents) and the delta is smaller; it sets
// depth and data (o's contents).
func (s *Staged) encodeVersion(enc *entryEncoder, out *bytes.Buffer, o plumbing.EncodedObject, depth *int, data *[]byte,
	placed func(plumbing.Hash) (int64, int, []byte, bool)) error {
	h := o.Hash()
	tgt, err := readObject(o)
	if err != nil {
		return err
	}
	*data = tgt
	off := int64(out.Len())
	if base, ok := s.bases[h]; ok {
		boff, bdepth, src, ok := placed(base)
		if ok && bdepth < s.r.mergeDepth && len(src) > 0 {
			ofs := appendOfsDelta(nil, off-boff)
			delta := spliceDelta(src, tgt)
			if len(delta)+len(ofs) < len(tgt) {
				if got, err := packfile.PatchDelta(src, delta); err == nil && bytes.Equal(got, tgt) {
					*depth = bdepth + 1
					return enc.entryTo(out, h, plumbing.OFSDeltaObject, ofs, bytes.NewReader(delta), int64(len(delta)))
				}
			}
		}
	}
	return enc.entryTo(out, h, o.Type(), nil, bytes.NewReader(tgt), int64(len(tgt)))
}

// readObject returns the contents of o.
func readObject(o plumbing.EncodedObject) ([]byte, error) {
	rd, err := o.Reader()
	if err != nil {
		return nil, err
	}
	data := make([]byte, o.Size())
	_, err = io.ReadFull(rd, data)
	if cerr := rd.Close(); err == nil {
		err = cerr
	}
	return data, err
}
