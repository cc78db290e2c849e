package repo

import (
	"bytes"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// A push sends a thin pack, as git's pack-objects --thin does: each tree
// and commit that has an earlier version (bases: what the parent commit
// held at its path, the parent commit) goes as a delta against it, by the
// earlier version's hash (REF_DELTA), when that is smaller. The earlier
// version is either in the remote, which holds what the old tip reaches,
// or earlier in the pack. The remote completes the pack with its own
// objects (git's index-pack --fix-thin, or unpack-objects for a small
// one). A paste rewrites a tree at each level of the layout, each of up
// to 64 entries (2.6 KB) but changed in one: the delta holds that entry,
// some 30-60 bytes, so what a push sends does not grow with the
// repository's depth as whole trees do.

// maxThinDepth bounds the chains of deltas within a pack (git's default
// for pack-objects is 50): a delta whose base is a delta sent in the same
// pack is one deeper.
const maxThinDepth = 50

// thinPack returns the packfile of hashes, in their order, each as a
// delta against its entry in bases when that is possible and smaller:
// the delta in deltas when there is one.
func (r *Repo) thinPack(hashes []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash, deltas map[plumbing.Hash][]byte) ([]byte, error) {
	var enc entryEncoder
	depth := make(map[plumbing.Hash]int, len(hashes)) // of each object sent so far
	pending := make(map[plumbing.Hash]bool, len(hashes))
	for _, h := range hashes {
		pending[h] = true
	}
	entries := make([]packEntry, 0, len(hashes))
	for _, h := range hashes {
		base, ok := bases[h]
		d, inPack := depth[base]
		// A base to come later in the pack is not used: no cycles.
		usable := ok && (inPack || !pending[base]) && d < maxThinDepth
		if delta := deltas[h]; usable && delta != nil {
			// Made by the commit that wrote h (made.go): nothing to read.
			e, err := enc.entry(h, plumbing.REFDeltaObject, base[:], bytes.NewReader(delta), int64(len(delta)))
			if err != nil {
				return nil, fmt.Errorf("thin pack: %w", err)
			}
			entries = append(entries, e)
			depth[h] = d + 1
			continue
		}
		o, err := r.st.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return nil, fmt.Errorf("thin pack: %s: %w", h, err)
		}
		if usable {
			e, ok, err := r.deltaEntry(&enc, o, base)
			if err != nil {
				return nil, fmt.Errorf("thin pack: %w", err)
			}
			if ok {
				entries = append(entries, e)
				depth[h] = d + 1
				continue
			}
		}
		e, err := enc.encode(o)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
		depth[h] = 0
	}
	pack, _ := assemblePack(entries)
	return pack, nil
}

// deltaEntry returns o as a REF_DELTA entry against the object base, of
// the same type, and whether that is smaller than o whole.
func (r *Repo) deltaEntry(enc *entryEncoder, o plumbing.EncodedObject, base plumbing.Hash) (packEntry, bool, error) {
	delta, ok, err := r.delta(o, base, len(base))
	if !ok || err != nil {
		return packEntry{}, false, err
	}
	e, err := enc.entry(o.Hash(), plumbing.REFDeltaObject, base[:], bytes.NewReader(delta), int64(len(delta)))
	return e, err == nil, err
}

// delta returns the delta that makes o of the object base, of the same
// type, and whether it is worth sending: shorter than o by more than the
// cost of naming base (ref bytes).
func (r *Repo) delta(o plumbing.EncodedObject, base plumbing.Hash, ref int) ([]byte, bool, error) {
	src, err := r.raw(o.Type(), base)
	if err != nil {
		return nil, false, fmt.Errorf("%s: base %s: %w", o.Hash(), base, err)
	}
	tgt, err := contents(o)
	if err != nil {
		return nil, false, err
	}
	delta, ok := deltaOf(src, tgt, ref)
	return delta, ok, nil
}

// deltaOf returns the delta that makes tgt of src, and whether it is
// worth sending: shorter than tgt by more than ref bytes.
func deltaOf(src, tgt []byte, ref int) ([]byte, bool) {
	if len(src) == 0 { // the empty tree: nothing to copy
		return nil, false
	}
	// spliceDelta is the shortest for one change, and costs a scan;
	// go-git's encoder, which indexes src, does better for many (a
	// group's root).
	delta := spliceDelta(src, tgt)
	if len(delta) > len(tgt)/4 {
		if d := packfile.DiffDelta(src, tgt); len(d) < len(delta) {
			delta = d
		}
	}
	if len(delta)+ref >= len(tgt) {
		return nil, false
	}
	// The reader applies the delta to its own copy of base: a wrong delta
	// would make the object unreadable (a push of it fail), so it is
	// checked here.
	if got, err := packfile.PatchDelta(src, delta); err != nil || !bytes.Equal(got, tgt) {
		return nil, false
	}
	return delta, true
}

// spliceDelta returns the delta that copies the bytes that src and tgt
// share at their start and at their end, and inserts those between. For a
// tree that changed in one entry (a paste added, a directory's hash
// changed) no delta is shorter; go-git's encoder, which matches blocks of
// 16 bytes, spends up to 100 bytes more on such a tree.
func spliceDelta(src, tgt []byte) []byte {
	p := 0
	for p < len(src) && p < len(tgt) && src[p] == tgt[p] {
		p++
	}
	s := 0
	for s < len(src)-p && s < len(tgt)-p && src[len(src)-1-s] == tgt[len(tgt)-1-s] {
		s++
	}
	d := appendDeltaSize(nil, len(src))
	d = appendDeltaSize(d, len(tgt))
	d = appendCopy(d, 0, p)
	for in := tgt[p : len(tgt)-s]; len(in) > 0; {
		n := min(len(in), 0x7f)
		d = append(append(d, byte(n)), in[:n]...)
		in = in[n:]
	}
	return appendCopy(d, len(src)-s, s)
}

// appendDeltaSize appends n as a delta's header encodes a size.
func appendDeltaSize(d []byte, n int) []byte {
	for ; n >= 0x80; n >>= 7 {
		d = append(d, byte(n)|0x80)
	}
	return append(d, byte(n))
}

// appendCopy appends the delta instructions that copy n bytes of the base
// from off, 64 KiB at most each.
func appendCopy(d []byte, off, n int) []byte {
	for n > 0 {
		size := min(n, 0x10000)
		op, at := byte(0x80), len(d)
		d = append(d, 0)
		for i := range 4 {
			if b := byte(off >> (8 * i)); b != 0 {
				op |= 1 << i
				d = append(d, b)
			}
		}
		if size != 0x10000 { // a size of 0 means 64 KiB
			for i := range 2 {
				if b := byte(size >> (8 * i)); b != 0 {
					op |= 0x10 << i
					d = append(d, b)
				}
			}
		}
		d[at] = op
		off, n = off+size, n-size
	}
	return d
}

// raw returns the contents of object h, of type typ: a tree the commit
// just read comes from the cache of decoded trees, encoded again (and
// checked against h), rather than from its pack, where it may be a delta
// to resolve.
func (r *Repo) raw(typ plumbing.ObjectType, h plumbing.Hash) ([]byte, error) {
	if t, ok := r.trees.get(h); ok && typ == plumbing.TreeObject {
		if data, err := appendTree(nil, t.Entries); err == nil && plumbing.ComputeHash(plumbing.TreeObject, data) == h {
			return data, nil
		}
	}
	o, err := r.st.EncodedObject(typ, h)
	if err != nil {
		return nil, err
	}
	return contents(o)
}

// contents reads object o.
func contents(o plumbing.EncodedObject) ([]byte, error) {
	rd, err := o.Reader()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(rd)
	if cerr := rd.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", o.Hash(), err)
	}
	return data, nil
}
