package repo

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// TestPackIndexFind: the interpolated lookup finds every name of a large
// index at its position, and no name it lacks: those between two names,
// before the first and after the last of a first byte, and at the ends of
// the hash space; in an index of names bunched unevenly too.
func TestPackIndexFind(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(i int) plumbing.Hash
	}{
		{"sha1", func(i int) plumbing.Hash {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(i))
			return plumbing.Hash(sha1.Sum(b[:]))
		}},
		{"bunched", func(i int) plumbing.Hash { // most names in a few narrow runs
			var h plumbing.Hash
			h[0] = byte(i % 3)
			binary.BigEndian.PutUint32(h[1:], uint32(i%7)<<28|uint32(i))
			h[19] = byte(i)
			return h
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 60000
			objs := make([]packObj, n)
			for i := range objs {
				objs[i] = packObj{off: int64(12 + i), hash: tc.hash(i)}
			}
			slices.SortFunc(objs, byHash)
			objs = slices.CompactFunc(objs, func(a, b packObj) bool { return a.hash == b.hash })
			var idx bytes.Buffer
			if err := writeIdx(&idx, objs, plumbing.ZeroHash); err != nil {
				t.Fatal(err)
			}
			x := &packIndex{idx: bytes.NewReader(idx.Bytes()), mem: idx.Bytes()}
			if err := x.readHeader(); err != nil {
				t.Fatal(err)
			}
			for i, o := range objs {
				at, ok, err := x.find(o.hash)
				if err != nil || !ok || at != int64(i) {
					t.Fatalf("%s: at %d, %v, %v; want %d", o.hash, at, ok, err, i)
				}
				if off, err := x.FindOffset(o.hash); err != nil || off != o.off {
					t.Fatalf("%s: offset %d, %v; want %d", o.hash, off, err, o.off)
				}
				// A name just after this one, absent unless it is the next.
				next := o.hash
				for k := 19; k >= 0; k-- {
					if next[k]++; next[k] != 0 {
						break
					}
				}
				if i+1 < len(objs) && objs[i+1].hash == next {
					continue
				}
				if _, ok, err := x.find(next); ok || err != nil {
					t.Fatalf("%s found (%v), not in the index", next, err)
				}
			}
			var lowest, highest plumbing.Hash
			for k := range highest {
				highest[k] = 0xff
			}
			for _, h := range []plumbing.Hash{lowest, highest} {
				if _, ok, err := x.find(h); (ok && !slices.ContainsFunc(objs, func(o packObj) bool { return o.hash == h })) || err != nil {
					t.Fatalf("%s found (%v), not in the index", h, err)
				}
			}
		})
	}
}
