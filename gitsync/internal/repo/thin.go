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
// delta against its entry in bases when that is possible and smaller.
func (r *Repo) thinPack(hashes []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash) ([]byte, error) {
	var enc entryEncoder
	depth := make(map[plumbing.Hash]int, len(hashes)) // of each object sent so far
	pending := make(map[plumbing.Hash]bool, len(hashes))
	for _, h := range hashes {
		pending[h] = true
	}
	entries := make([]packEntry, 0, len(hashes))
	for _, h := range hashes {
		o, err := r.st.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return nil, fmt.Errorf("thin pack: %s: %w", h, err)
		}
		base, ok := bases[h]
		d, inPack := depth[base]
		// A base to come later in the pack is not used: no cycles.
		if ok && (inPack || !pending[base]) && d < maxThinDepth {
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
	b, err := r.st.EncodedObject(o.Type(), base)
	if err != nil {
		return packEntry{}, false, fmt.Errorf("%s: base %s: %w", o.Hash(), base, err)
	}
	src, err := contents(b)
	if err != nil {
		return packEntry{}, false, err
	}
	tgt, err := contents(o)
	if err != nil {
		return packEntry{}, false, err
	}
	delta := packfile.DiffDelta(src, tgt)
	if len(delta)+len(base) >= len(tgt) {
		return packEntry{}, false, nil
	}
	// The remote applies the delta to its own copy of base: a wrong delta
	// would fail every push of this commit, so it is checked here.
	if got, err := packfile.PatchDelta(src, delta); err != nil || !bytes.Equal(got, tgt) {
		return packEntry{}, false, nil
	}
	e, err := enc.entry(o.Hash(), plumbing.REFDeltaObject, base[:], bytes.NewReader(delta), int64(len(delta)))
	return e, err == nil, err
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
