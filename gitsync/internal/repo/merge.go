package repo

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"io"
	"io/fs"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// What flush writes is merged into one pack every mergePacks packs (or
// mergeLoose flushes of loose objects): the packs and the loose objects
// it wrote since the last merge. A paste
// rewrites every tree on its path, whole, as git stores objects outside
// packs and as a pack must hold the base of each of its deltas. In the
// merged pack, each tree and commit whose earlier version (what the
// parent commit held at its path, the parent) comes before it goes as a
// delta against that version (OFS_DELTA), when that is smaller: the root
// and the directories near it, which most pastes of a merge rewrite, stay
// on disk as what changed. A version whose predecessor was merged before,
// or came with a fetch, stays whole.

// maxMergeDepth bounds the chains of deltas in a merged pack: reading the
// newest root applies that many deltas at most. (Repo.mergeDepth, which
// tests set to 0 for merged packs of whole objects.)
const maxMergeDepth = 10

// smallPack is what one flush wrote: a pack (sum), or loose objects (sum
// zero), and its objects as entries.
type smallPack struct {
	sum     plumbing.Hash
	entries []packEntry
}

// mergeIfDue merges what flush wrote once it is mergePacks packs,
// mergeLoose flushes, or mergeBytes of packs.
func (r *Repo) mergeIfDue() error {
	packs := 0
	for _, p := range r.small {
		if !p.sum.IsZero() {
			packs++
		}
	}
	if packs >= mergePacks || len(r.small) >= mergeLoose || r.smallBytes >= mergeBytes {
		return r.mergeSmall()
	}
	return nil
}

// mergeSmall writes the objects that flush wrote since the last merge
// into one pack, fsynced, and then deletes their packs and loose files.
func (r *Repo) mergeSmall() error {
	var entries []packEntry
	for _, p := range r.small {
		entries = append(entries, p.entries...)
	}
	pack, objs, err := r.deltaPack(entries)
	if err != nil {
		return fmt.Errorf("merge packs: %w", err)
	}
	if err := r.putPack(pack, objs); err != nil {
		return fmt.Errorf("merge packs: %w", err)
	}
	if err := r.batch.closePacks(); err != nil {
		return fmt.Errorf("merge packs: %w", err)
	}
	merged := packSum(pack)
	for _, p := range r.small {
		if p.sum == merged {
			// The merge of one pack without deltas is that very pack:
			// deleting it would take the branch's objects with it.
			continue
		}
		if !p.sum.IsZero() {
			if err := r.fs.DeleteOldObjectPackAndIndex(p.sum, time.Time{}); err != nil {
				return fmt.Errorf("merge packs: %w", err)
			}
			if err := r.files.Remove(r.packPath(p.sum) + ".rev"); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("merge packs: %w", err)
			}
			continue
		}
		for _, e := range p.entries {
			// The pack is durable: a crash before this leaves copies.
			if err := r.fs.DeleteLooseObject(e.hash); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("merge packs: %w", err)
			}
		}
	}
	clear(r.small)
	r.small, r.smallBytes = r.small[:0], 0
	clear(r.versions)
	// The packs are listed again at the next read: the merged pack is
	// among them, and the deleted ones are not.
	return r.batch.closePacks()
}

// noteVersion records that object h, just written, replaces base (a
// tree at the same path, a commit's parent), for the next merge.
func (r *Repo) noteVersion(h, base plumbing.Hash) {
	if !base.IsZero() {
		r.versions[h] = base
	}
}

// deltaPack returns the packfile of entries, each object once, in the
// order given, with each object whose earlier version (r.versions) comes
// before it as a delta against it when that is smaller; and its objects
// as the index describes them. It reads nothing but entries.
func (r *Repo) deltaPack(entries []packEntry) ([]byte, []packObj, error) {
	whole := make(map[plumbing.Hash]packEntry, len(entries))
	size := 12 + sha1.Size // at most: a delta is kept only when smaller
	for _, e := range entries {
		whole[e.hash] = e
		size += len(e.data)
	}
	var enc entryEncoder
	pack := make([]byte, 0, size)
	pack = append(pack, "PACK"...)
	pack = binary.BigEndian.AppendUint32(pack, 2)
	pack = binary.BigEndian.AppendUint32(pack, 0) // the count, below
	type placed struct {
		off   int64
		depth int
	}
	at := make(map[plumbing.Hash]placed, len(entries))
	objs := make([]packObj, 0, len(entries))
	for _, e := range entries {
		if _, ok := at[e.hash]; ok {
			continue
		}
		off, depth := int64(len(pack)), 0
		base, ok := r.versions[e.hash]
		if b, placed := at[base]; ok && placed && b.depth < r.mergeDepth {
			d, ok, err := mergeDelta(&enc, whole[base], e, off-b.off)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				e, depth = d, b.depth+1
			}
		}
		at[e.hash] = placed{off: off, depth: depth}
		objs = append(objs, packObj{off: off, hash: e.hash, crc: crc32.ChecksumIEEE(e.data)})
		pack = append(pack, e.data...)
	}
	binary.BigEndian.PutUint32(pack[8:12], uint32(len(objs)))
	sum := sha1.Sum(pack)
	return append(pack, sum[:]...), objs, nil
}

// mergeDelta returns target as an OFS_DELTA entry against base, dist
// bytes before it in the pack, and whether that is smaller than target.
// The delta is spliceDelta's: go-git's encoder, which indexes each base,
// made a merge of 32 groups of 64 pastes take seconds.
func mergeDelta(enc *entryEncoder, base, target packEntry, dist int64) (packEntry, bool, error) {
	src, err := entryContents(base)
	if err != nil {
		return packEntry{}, false, err
	}
	tgt, err := entryContents(target)
	if err != nil || len(src) == 0 {
		return packEntry{}, false, err
	}
	ofs := appendOfsDelta(nil, dist)
	delta := spliceDelta(src, tgt)
	if len(delta)+len(ofs) >= len(tgt) {
		return packEntry{}, false, nil
	}
	if got, err := packfile.PatchDelta(src, delta); err != nil || !bytes.Equal(got, tgt) {
		return packEntry{}, false, nil
	}
	d, err := enc.entry(target.hash, plumbing.OFSDeltaObject, ofs, bytes.NewReader(delta), int64(len(delta)))
	return d, err == nil, err
}

// entryContents returns the contents of a whole object's entry, as
// entryEncoder wrote it.
func entryContents(e packEntry) ([]byte, error) {
	b := e.data
	size := int64(b[0] & 0x0f)
	i, shift := 1, 4
	for b[i-1]&0x80 != 0 {
		size |= int64(b[i]&0x7f) << shift
		i, shift = i+1, shift+7
	}
	if data, ok := readStored(b[i:], size); ok {
		return data, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(b[i:]))
	if err != nil {
		return nil, fmt.Errorf("entry of %s: %w", e.hash, err)
	}
	out := make([]byte, 0, size)
	buf := bytes.NewBuffer(out)
	if _, err := io.Copy(buf, zr); err != nil || int64(buf.Len()) != size {
		return nil, fmt.Errorf("entry of %s: %d bytes of %d, %v", e.hash, buf.Len(), size, err)
	}
	return buf.Bytes(), nil
}

// readStored returns the size bytes that z holds when it is a zlib stream
// of stored blocks, as writeStored writes them, and whether it is one.
func readStored(z []byte, size int64) ([]byte, bool) {
	if len(z) < 2 || z[0] != 0x78 || z[1] != 0x01 {
		return nil, false
	}
	out := make([]byte, 0, size)
	for z = z[2:]; ; {
		if len(z) < 5 || z[0]&^1 != 0 { // BTYPE 00, stored
			return nil, false
		}
		n := int(binary.LittleEndian.Uint16(z[1:3]))
		if len(z) < 5+n || int64(len(out)+n) > size {
			return nil, false
		}
		out = append(out, z[5:5+n]...)
		final := z[0] == 1
		z = z[5+n:]
		if final {
			break
		}
	}
	if len(z) < 4 || int64(len(out)) != size || binary.BigEndian.Uint32(z) != adler32.Checksum(out) {
		return nil, false
	}
	return out, true
}

// appendOfsDelta appends the distance back to an OFS_DELTA's base, as a
// pack entry encodes it (each byte after the first adds one before the
// shift).
func appendOfsDelta(b []byte, dist int64) []byte {
	var buf [10]byte
	i := len(buf) - 1
	buf[i] = byte(dist & 0x7f)
	for dist >>= 7; dist > 0; dist >>= 7 {
		dist--
		i--
		buf[i] = 0x80 | byte(dist&0x7f)
	}
	return append(b, buf[i:]...)
}
