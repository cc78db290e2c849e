package repo

import (
	"hash/maphash"

	"github.com/go-git/go-git/v5/plumbing"
)

// An idFilter answers "is a file of this name anywhere in tree root?" with
// "no" or "maybe", without reading a tree: a Bloom filter of the names of
// the files (every entry that is not a directory) of root and its
// subtrees. A new paste's id check (Free, and the commit's own) walks
// down to the leaf its id would go to; at a million pastes there are
// ~48,000 leaves, a few thousand in the cache of decoded trees, so that
// walk read a leaf from its pack for nearly every paste, only to find the
// id free. With the filter, a "no" needs only the two levels above the
// leaves (always cached); a "maybe" (a taken id, or a false positive)
// walks as before.
//
// The filter only grows: a name that left the tree (a paste removed,
// purged, or moved by a split) stays in it, a false "maybe". So it holds
// the names of every tree it was moved to, which makes moving it cheap
// and safe whatever the move: to a commit pasteur made on root, add the
// ids it placed; to any other tree (a fetched push, a replay, a merge, a
// removal), add the names of the entries walkChanges reports, those that
// differ from root's. A name can never be missing, so a "no" is never
// wrong: the filter is made only from a walk of every tree of a root (the
// expiry scan's, which waits for a partial repository to be complete).
//
// Memory: segments of 10 bits a name of their capacity, k = 7 (a false
// positive 0.8% when full); when the last is full a new one four times
// larger is added. 1M names: 64k + 256k + 1M of capacity, 1.7 MB, 1.8%
// false positives.
type idFilter struct {
	root plumbing.Hash // the tree whose every file name is in the filter
	// prev is the tree the filter was moved from to root: as it only
	// grows, every name of prev is in it too. A commit behind the
	// write-ahead log moves the filter to its tree while the branch
	// still names prev until the commit's pack is written, and the id
	// checks of that time are against prev: without it, each of them
	// walked the commit's changes back, and the next one forward again.
	prev plumbing.Hash
	seed maphash.Seed
	segs []bloomSegment
	n    int // names added
}

type bloomSegment struct {
	bits     []uint64
	n        uint64 // bits
	held, at int    // capacity, names added
}

const (
	idFilterFirst  = 64 << 10 // names the first segment holds
	idFilterGrowth = 4
	idFilterBits   = 10 // bits a name of capacity
	idFilterK      = 7  // bits set a name
)

func newIDFilter(root plumbing.Hash) *idFilter {
	return &idFilter{root: root, seed: maphash.MakeSeed()}
}

// covers reports whether every file name of tree root is in the filter.
func (f *idFilter) covers(root plumbing.Hash) bool {
	return root == f.root || !root.IsZero() && root == f.prev
}

// moveTo notes that every file name of tree root is in the filter now.
func (f *idFilter) moveTo(root plumbing.Hash) {
	if root != f.root {
		f.prev, f.root = f.root, root
	}
}

// add puts name in the filter.
func (f *idFilter) add(name string) {
	if len(f.segs) == 0 || f.segs[len(f.segs)-1].at >= f.segs[len(f.segs)-1].held {
		held := idFilterFirst
		if len(f.segs) > 0 {
			held = f.segs[len(f.segs)-1].held * idFilterGrowth
		}
		bits := held * idFilterBits // a multiple of 64
		f.segs = append(f.segs, bloomSegment{bits: make([]uint64, bits/64), n: uint64(bits), held: held})
	}
	s := &f.segs[len(f.segs)-1]
	h1, h2 := bloomHashes(f.seed, name)
	for i := range uint64(idFilterK) {
		b := s.bit(h1 + i*h2)
		s.bits[b/64] |= 1 << (b % 64)
	}
	s.at++
	f.n++
}

// has reports whether name may be in the filter: false means it is not.
func (f *idFilter) has(name string) bool {
	h1, h2 := bloomHashes(f.seed, name)
	for si := range f.segs {
		s := &f.segs[si]
		in := true
		for i := range uint64(idFilterK) {
			b := s.bit(h1 + i*h2)
			if s.bits[b/64]&(1<<(b%64)) == 0 {
				in = false
				break
			}
		}
		if in {
			return true
		}
	}
	return false
}

// bit maps a hash to a bit of s: its high 32 bits scaled to s.n.
func (s *bloomSegment) bit(g uint64) uint64 { return (g >> 32) * s.n >> 32 }

// bytes is the memory of the filter's bits.
func (f *idFilter) bytes() int {
	n := 0
	for _, s := range f.segs {
		n += 8 * len(s.bits)
	}
	return n
}

// bloomHashes are the two hashes of name whose combinations h1 + i*h2
// pick its bits (double hashing; bit uses their high halves): h2 is the
// low half of the hash moved up, odd.
func bloomHashes(seed maphash.Seed, name string) (uint64, uint64) {
	h := maphash.String(seed, name)
	return h, h<<32 | 1<<32
}
