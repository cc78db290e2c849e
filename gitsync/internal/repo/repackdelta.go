package repo

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// Tree deltas: a rewrite of the one pack of a completed repository in
// which the trees stored whole become deltas where a good base is found.
// A completion's steps can only make deltas against their own objects:
// at 1M pastes git upload-pack sent 371,794 trees whole (168 MB) that
// the remote stores as deltas (18 MB). Copying entries as stored (the
// repack) cannot shrink them.
//
// The bases: the versions of a tree at one path are each other's best
// bases, and a pack written as the completion writes it holds mostly one
// whole version of a path a step, the packs of the newest history first.
// Paths are not known without a walk of the history; a tree is known by
// keys taken from its entries (treeKeys): its three least entry hashes,
// which a leaf that gains or loses a paste, or a directory one of whose
// subtrees changed, mostly keeps, and its path as its first name says
// it. Each whole tree, in the order of the pack, becomes a delta against
// the last whole tree written before it that shares a key (in a table of
// fixed size: a collision loses a base, never memory; up to treeTries
// of them tried), when the delta is smaller than the tree as stored; and
// it is then the base for the next. So the newest version of each path,
// the first in the pack, stays whole: reads at the tip get no longer
// chains. Bases are read whole from the old pack: one inflate each, no
// chain. The delta is made by entries (treeDelta), applied back to its
// base before it is written, and stored, not deflated (mostly hashes).
// Blobs (paste bodies, mostly unrelated) and commits (small) are copied
// as stored.
//
// Chains stay within git's depth (treeDeltaDepth): a first pass over the
// headers of the pack finds how deep the deltas already made against
// each whole tree go, and a tree becomes a delta only when its base's
// depth, plus one, plus that, stays within it.
//
// Memory: the first pass holds 9 bytes for each entry that is a tree or
// may be (whole trees, and the deltas whose base is one), then 5 bytes
// for each whole tree that is the base of other deltas, and is collected
// before the copy; the copy holds the table (treeSlots of 24 bytes: 6
// MiB), 16 bytes for each entry that changed size (the repack's list of
// what moved: at 1M pastes ~400k) and the trees of a delta. The pack
// must be under 4 GiB (offsets are kept in 32 bits). At 1M pastes the
// rewrite peaked at 46 MiB in a process of its own (BENCHMARKS.md).

const (
	// treeDeltaDepth bounds a delta chain, as git's pack.depth does.
	treeDeltaDepth = 50
	// treeSlots is the size of the table of bases (a power of two).
	treeSlots = 1 << 18
	// treeTries bounds the bases tried for one tree.
	treeTries = 3
)

// treeDeltas is the state of a rewrite of one pack with tree deltas.
type treeDeltas struct {
	// tall and height: the whole trees that other deltas have as their
	// base, by offset, and how deep those chains go below them.
	tall   []uint32
	height []uint8
	next   int // in tall: the first not before the entry being copied

	slots []treeSlot
	zr    io.ReadCloser
	zw    *zlib.Writer
	raw   []byte // a base's entry, as stored
	zbuf  bytes.Buffer
	ent   []byte // the entry of a delta
	best  []byte // the entry of the smallest delta so far
	delta []byte
}

// treeSlot is a whole tree of the pack, as a base: where it was and
// where it went, its stored length and its depth in the new pack.
type treeSlot struct {
	key    uint64
	oldOff uint32
	n      uint32
	newOff uint32
	depth  uint8
}

// PlanTreeDeltas returns a rewrite of the largest pack of the repository
// (the one a repack left) in which the trees stored whole become deltas
// where a good base is found (nil for a repository in memory, one without
// packs, and a pack of 4 GiB or more). As PlanRepack, it opens the pack,
// so that Write reads it without the lock; Finish and Sync follow.
func (r *Repo) PlanTreeDeltas() (*Repacking, error) {
	if r.disk == nil {
		return nil, nil
	}
	dir := filepath.Join(r.disk.dir, "objects", "pack")
	if err := removeOrphans(dir); err != nil {
		return nil, fmt.Errorf("tree deltas: %w", err)
	}
	names, err := packNames(r.files, r.disk.dir)
	if err != nil {
		return nil, fmt.Errorf("tree deltas: %w", err)
	}
	leave := r.keptByRepack()
	var pick plumbing.Hash
	var size int64 = -1
	for _, h := range names {
		if leave[h] {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, "pack-"+h.String()+".pack"))
		if err != nil {
			continue // going: a repack's old pack
		}
		if fi.Size() > size {
			pick, size = h, fi.Size()
		}
	}
	if size < 0 || size >= math.MaxUint32 {
		return nil, nil
	}
	rp := &Repacking{r: r, dir: dir, trees: &treeDeltas{}}
	if err := rp.open(pick); err != nil {
		rp.Discard()
		return nil, fmt.Errorf("tree deltas: %w", err)
	}
	rp.Stats.Packs = 1
	return rp, nil
}

// entryType returns the type of the pack entry whose header is b, and
// its size; ok is false for a header that is not git's.
func entryType(b []byte) (typ plumbing.ObjectType, size int64, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	typ, size = plumbing.ObjectType(b[0]>>4&7), int64(b[0]&0x0f)
	for i, shift := 1, 4; b[i-1]&0x80 != 0; i, shift = i+1, shift+7 {
		if i >= len(b) || shift > 56 {
			return 0, 0, false
		}
		size |= int64(b[i]&0x7f) << shift
	}
	return typ, size, true
}

// plan reads the headers of the pack in the order of its offsets and
// finds, for each whole tree that other deltas have as their base, how
// deep the chains below it go.
func (t *treeDeltas) plan(rp *Repacking, s *repackSrc) error {
	order, closer, err := rankOrder(s.idx, s.path)
	if err != nil {
		return err
	}
	defer closer.Close()
	ranks := bufio.NewReaderSize(io.NewSectionReader(order, revHeader, 4*s.idx.n), 16<<10)
	in := bufio.NewReaderSize(io.NewSectionReader(s.pack, 0, s.size), repackBuffer)
	// offs: the entries that are trees or may be, in offset order; base:
	// the index in offs of each one's base, -1 for a whole tree, -2 for
	// a delta whose base is not a tree.
	// Sized for every object: the pages no tree reaches are not touched.
	offs := make([]uint32, 0, s.idx.n)
	base := make([]int32, 0, s.idx.n)
	type pending struct {
		k   int
		off int64
	}
	var refs []pending // REF_DELTAs, their base found at the end
	cur := int64(0)
	var b4 [4]byte
	for j := int64(0); j < s.idx.n; j++ {
		if j%4096 == 0 && rp.ctx.Err() != nil {
			return rp.ctx.Err()
		}
		if _, err := io.ReadFull(ranks, b4[:]); err != nil {
			return err
		}
		i := int64(binary.BigEndian.Uint32(b4[:]))
		if i >= s.idx.n {
			return errBadIndex
		}
		off, err := s.idx.offsetAt(i)
		if err != nil {
			return err
		}
		if off < cur || off >= s.size {
			return fmt.Errorf("object at %d: %w", off, errBadIndex)
		}
		if _, err := in.Discard(int(off - cur)); err != nil {
			return err
		}
		cur = off
		head, err := in.Peek(int(min(s.size-off, 32)))
		if err != nil {
			return err
		}
		h, dist, _, _, ok := entryHead(head)
		if !ok {
			return fmt.Errorf("object at %d: malformed header", off)
		}
		switch plumbing.ObjectType(head[0] >> 4 & 7) {
		case plumbing.TreeObject:
			offs, base = append(offs, uint32(off)), append(base, -1)
		case plumbing.OFSDeltaObject:
			if k, found := slices.BinarySearch(offs, uint32(off-dist)); found {
				offs, base = append(offs, uint32(off)), append(base, int32(k))
			}
		case plumbing.REFDeltaObject:
			if h+20 > len(head) {
				return fmt.Errorf("object at %d: malformed header", off)
			}
			pos, found, err := s.idx.find(plumbing.Hash(head[h : h+20]))
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("delta at %d: %w", off, ErrMissingBase)
			}
			boff, err := s.idx.offsetAt(pos)
			if err != nil {
				return err
			}
			refs = append(refs, pending{len(offs), boff})
			offs, base = append(offs, uint32(off)), append(base, -2)
		}
	}
	for _, p := range refs {
		if k, found := slices.BinarySearch(offs, uint32(p.off)); found && k != p.k {
			base[p.k] = int32(k)
		}
	}
	height := make([]uint8, len(offs))
	for k := range base {
		x, d := k, 0
		for base[x] >= 0 {
			x = int(base[x])
			if d++; d > maxDeltaDepth {
				return fmt.Errorf("object at %d: delta chain longer than %d", offs[k], maxDeltaDepth)
			}
		}
		if base[x] == -1 && d > int(height[x]) {
			height[x] = uint8(min(d, math.MaxUint8))
		}
	}
	for k, h := range height {
		if h > 0 {
			t.tall = append(t.tall, offs[k])
			t.height = append(t.height, h)
		}
	}
	return nil
}

// below returns how deep the deltas against the whole tree at off go;
// the offsets asked for increase.
func (t *treeDeltas) below(off int64) int {
	for t.next < len(t.tall) && int64(t.tall[t.next]) < off {
		t.next++
	}
	if t.next < len(t.tall) && int64(t.tall[t.next]) == off {
		return int(t.height[t.next])
	}
	return 0
}

// treeSketch is how many of the least hashes of a tree's entries
// treeKeys takes.
const treeSketch = 3

// treeKeys returns the keys a tree is known by, the most telling first:
// the first 8 bytes of the treeSketch least hashes of its entries; then,
// for a tree of pastes (a leaf, whose names start with its path), the
// first 3 and 2 bytes of its first name; for a tree of trees, its names
// (the directories of one level have the same: a base of last resort).
// ok is false for bytes that are not a tree.
func treeKeys(tree []byte) (keys []uint64, ok bool) {
	var least [treeSketch]uint64
	n := 0
	var first []byte
	dir := bytes.HasPrefix(tree, []byte("40000 "))
	names := fnv.New64a()
	for len(tree) > 0 {
		nul := bytes.IndexByte(tree, 0)
		if nul < 0 || len(tree) < nul+1+20 {
			return nil, false
		}
		if first == nil {
			first = tree[:nul]
		}
		names.Write(tree[:nul+1])
		k := binary.BigEndian.Uint64(tree[nul+1:])
		tree = tree[nul+1+20:]
		// Insertion into the least, kept in order, without repeats.
		at := min(n, treeSketch)
		for at > 0 && least[at-1] > k {
			at--
		}
		if at < min(n, treeSketch) && least[at] == k || at > 0 && least[at-1] == k || at == treeSketch {
			continue
		}
		copy(least[at+1:], least[at:])
		least[at] = k
		n++
	}
	if first == nil {
		return nil, false
	}
	keys = append(keys, least[:min(n, treeSketch)]...)
	if dir {
		return append(keys, names.Sum64()^1), true
	}
	if _, name, ok := bytes.Cut(first, []byte(" ")); ok {
		for _, l := range []int{3, 2} {
			if len(name) >= l {
				h := fnv.New64a()
				h.Write(name[:l])
				keys = append(keys, h.Sum64()^uint64(l<<1))
			}
		}
	}
	return keys, true
}

// deltify writes the whole tree at off in s, whose entry is stored (n
// bytes), to out as a delta when a base is found and the delta is
// smaller; it returns what it wrote (0: nothing, the entry is to be
// copied). Either way the tree is a base for the next.
func (t *treeDeltas) deltify(rp *Repacking, out *packWriter, s *repackSrc, off int64, stored []byte) (int64, error) {
	n := int64(len(stored))
	newOff := out.off
	if t.slots == nil {
		t.slots = make([]treeSlot, treeSlots)
	}
	tree, err := t.inflate(stored, off)
	if err != nil {
		return 0, err
	}
	keys, ok := treeKeys(tree)
	if !ok {
		return 0, nil // copied as it is: not ours to judge
	}
	var wrote int64
	depth := 0
	below := t.below(off)
	// The first base that makes a small delta, else the best of a few.
	best, bestDepth := int64(n), 0
	var tried [treeTries]uint32
	tries := 0
	for _, key := range keys {
		sl := &t.slots[key&(treeSlots-1)]
		if sl.n == 0 || sl.key != key || slices.Contains(tried[:tries], sl.oldOff) {
			continue
		}
		if int(sl.depth)+1+below > treeDeltaDepth {
			continue
		}
		tried[tries] = sl.oldOff
		tries++
		base, err := t.read(s, int64(sl.oldOff), int64(sl.n))
		if err != nil {
			return 0, err
		}
		delta, ok := treeDelta(t.delta[:0], base, tree)
		if !ok {
			continue
		}
		t.delta = delta
		// A wrong delta would lose the tree with the old pack.
		if got, err := patch(base, delta); err != nil || !bytes.Equal(got, tree) {
			return 0, fmt.Errorf("tree at %d: a delta that does not make it back (%v)", off, err)
		}
		ent, err := t.entry(delta, newOff-int64(sl.newOff))
		if err != nil {
			return 0, err
		}
		if int64(len(ent)) < best {
			best, bestDepth = int64(len(ent)), int(sl.depth)+1
			t.best = append(t.best[:0], ent...)
		}
		if best <= n/4 || tries == treeTries {
			break
		}
	}
	if best < n {
		if _, err := out.Write(t.best); err != nil {
			return 0, err
		}
		wrote, depth = best, bestDepth
		rp.Stats.TreeDeltas++
		rp.Stats.TreeBytes += n - wrote
	}
	for _, key := range keys {
		t.slots[key&(treeSlots-1)] = treeSlot{key: key, oldOff: uint32(off), n: uint32(n), newOff: uint32(newOff), depth: uint8(depth)}
	}
	return wrote, nil
}

// read returns the whole tree stored at off in s (n bytes), inflated.
func (t *treeDeltas) read(s *repackSrc, off, n int64) ([]byte, error) {
	t.raw = slices.Grow(t.raw[:0], int(n))[:n]
	if _, err := s.pack.ReadAt(t.raw, off); err != nil {
		return nil, err
	}
	return t.inflate(t.raw, off)
}

// inflate returns the whole tree whose entry, at off, is stored.
func (t *treeDeltas) inflate(stored []byte, off int64) ([]byte, error) {
	typ, size, ok := entryType(stored)
	if !ok || typ != plumbing.TreeObject || size > maxPackObject {
		return nil, fmt.Errorf("tree at %d: %w", off, errBadEntry)
	}
	h := 1
	for stored[h-1]&0x80 != 0 {
		h++
	}
	if size <= storeMax && len(stored) == h+2+5+int(size)+4 {
		if data, ok := readStored(stored[h:], size); ok {
			return data, nil
		}
	}
	rd := bytes.NewReader(stored[h:])
	var err error
	if t.zr == nil {
		t.zr, err = zlib.NewReader(rd)
	} else {
		err = t.zr.(zlib.Resetter).Reset(rd, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("tree at %d: %w", off, err)
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(size, 1<<20)+bytes.MinRead))
	if _, err := io.CopyN(buf, t.zr, size); err != nil {
		return nil, fmt.Errorf("tree at %d: %w", off, err)
	}
	var one [1]byte
	if k, err := t.zr.Read(one[:]); k != 0 || !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("tree at %d: more than %d bytes (%v)", off, size, err)
	}
	return buf.Bytes(), nil
}

// entry returns the pack entry of an OFS_DELTA dist bytes after its base.
func (t *treeDeltas) entry(delta []byte, dist int64) ([]byte, error) {
	t.zbuf.Reset()
	if len(delta) <= storeMax {
		// Stored, as pasteur's own packs: a tree's delta is mostly
		// hashes, deflate saved nothing on it at 1M pastes (218.86 MB
		// of pack, 218.82 stored), and its reset and tables took half
		// the rewrite's time.
		if err := writeStored(&t.zbuf, bytes.NewReader(delta), int64(len(delta))); err != nil {
			return nil, err
		}
	} else {
		if t.zw == nil {
			t.zw = zlib.NewWriter(&t.zbuf)
		} else {
			t.zw.Reset(&t.zbuf)
		}
		if _, err := t.zw.Write(delta); err != nil {
			return nil, err
		}
		if err := t.zw.Close(); err != nil {
			return nil, err
		}
	}
	e := t.ent[:0]
	size := uint64(len(delta))
	c := byte(plumbing.OFSDeltaObject)<<4 | byte(size&0x0f)
	for size >>= 4; size > 0; size >>= 7 {
		e = append(e, c|0x80)
		c = byte(size & 0x7f)
	}
	e = append(e, c)
	e = appendOfsDelta(e, dist)
	e = append(e, t.zbuf.Bytes()...)
	t.ent = e
	return e, nil
}
