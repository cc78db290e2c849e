package repo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
)

// FuzzIndexPack: the indexer of fetched packs, which come from the
// network, never panics or hangs, stays within its limits, and what it
// accepts indexes every object once, as go-git reads it back. Seeds: packs
// git made (testdata, with offset and reference deltas), one pasteur
// assembles, and the bombs (gittest).
func FuzzIndexPack(f *testing.F) {
	f.Add(blobPack(f, "", "a paste", "a paste, and more of it"))
	f.Add([]byte("PACK\x00\x00\x00\x02\xff\xff\xff\xff"))
	// Bombs: a delta building 1 GiB, a blob of zeros over the limit.
	f.Add(gittest.DeltaBomb())
	f.Add(gittest.ZeroBomb(4 << 20))
	// Thin packs, whose bases fuzzBases serves: a delta on a base
	// that is not in the pack, and a chain on it.
	f.Add(thinSeed(f, false))
	f.Add(thinSeed(f, true))
	f.Fuzz(func(t *testing.T, pack []byte) {
		var tail []packEntry
		thin := &thinPack{bases: fuzzBases, put: func(e packEntry) error { tail = append(tail, e); return nil }}
		objs, sum, err := indexPack(bytes.NewReader(pack), fuzzLimits, int64(len(pack)), thin)
		if err != nil {
			return
		}
		if len(tail) > 0 {
			// Completed, the pack holds every base it needs.
			completed, want := appendBases(bytes.Clone(pack), uint32(len(objs)), tail)
			objs, sum, err = indexPack(bytes.NewReader(completed), fuzzLimits, int64(len(completed)), nil)
			if err != nil || sum != want {
				t.Fatalf("the completed pack: %v, checksum %s, want %s", err, sum, want)
			}
		}
		var idx bytes.Buffer
		if err := writeIdx(&idx, objs, sum); err != nil {
			t.Fatal(err)
		}
		index := idxfile.NewMemoryIndex()
		if err := idxfile.NewDecoder(bytes.NewReader(idx.Bytes())).Decode(index); err != nil {
			t.Fatalf("our index does not decode: %v", err)
		}
		for _, o := range objs {
			off, err := index.FindOffset(o.hash)
			if err != nil {
				t.Fatalf("object %s not in the index: %v", o.hash, err)
			}
			if off != o.off && !hasDuplicate(objs, o.hash) {
				t.Fatalf("object %s at %d, indexed at %d", o.hash, o.off, off)
			}
		}
	})
}

// hasDuplicate reports whether objs hold h more than once.
func hasDuplicate(objs []packObj, h plumbing.Hash) bool {
	n := 0
	for _, o := range objs {
		if o.hash == h {
			n++
		}
	}
	return n > 1
}

// fuzzLimits are small, so that a fuzzed bomb is refused quickly.
var fuzzLimits = Limits{Object: 1 << 20, Paste: 1 << 20, Chain: 2 << 20, Pack: 8 << 20, Inflated: 16 << 20}

// FuzzReadObjects: objects fetched by hash into a partial repository come
// from the network too; ReadObjects never panics or goes past its limits,
// and what it returns can be stored and read back.
func FuzzReadObjects(f *testing.F) {
	f.Add(blobPack(f, "a tree's paste", "another"))
	f.Add(gittest.DeltaBomb())
	f.Fuzz(func(t *testing.T, pack []byte) {
		r, err := Open("", plumbing.NewBranchReferenceName("master"))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.SetLimits(fuzzLimits)
		objs, err := r.ReadObjects(bytes.NewReader(pack))
		if err != nil {
			return
		}
		if err := r.AddObjects(objs); err != nil {
			t.Fatal(err)
		}
		for _, h := range objs.Hashes() {
			if !r.Has(h) {
				t.Fatalf("object %s not stored", h)
			}
		}
	})
}

// blobPack returns a pack pasteur assembles, of a blob of each of datas: a
// seed of the fuzz targets.
func blobPack(f *testing.F, datas ...string) []byte {
	st := memory.NewStorage()
	var enc entryEncoder
	var entries []packEntry
	for _, data := range datas {
		o := st.NewEncodedObject()
		o.SetType(plumbing.BlobObject)
		w, _ := o.Writer()
		w.Write([]byte(data))
		w.Close()
		e, err := enc.encode(o)
		if err != nil {
			f.Fatal(err)
		}
		entries = append(entries, e)
	}
	pack, _ := assemblePack(entries)
	return pack
}

// fuzzBase is the object fuzzBases serves, as a repository would serve
// the base of a thin pack's delta.
var fuzzBase = []byte(strings.Repeat("a paste that a thin pack's deltas are made against\n", 8))

// fuzzBases serves fuzzBase, and nothing else.
func fuzzBases(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	if h == plumbing.ComputeHash(plumbing.BlobObject, fuzzBase) {
		return plumbing.BlobObject, fuzzBase, nil
	}
	return plumbing.InvalidObject, nil, &MissingError{Hash: h}
}

// thinSeed returns a thin pack whose delta's base is fuzzBase; with chain,
// an offset delta on that delta too.
func thinSeed(tb testing.TB, chain bool) []byte {
	tb.Helper()
	var enc entryEncoder
	base := plumbing.ComputeHash(plumbing.BlobObject, fuzzBase)
	v1 := append(bytes.Clone(fuzzBase), "and a line more\n"...)
	d1 := spliceDelta(fuzzBase, v1)
	e1, err := enc.entry(plumbing.ComputeHash(plumbing.BlobObject, v1), plumbing.REFDeltaObject, base[:], bytes.NewReader(d1), int64(len(d1)))
	if err != nil {
		tb.Fatal(err)
	}
	entries := []packEntry{e1}
	if chain {
		v2 := append(bytes.Clone(v1), "and another\n"...)
		d2 := spliceDelta(v1, v2)
		e2, err := enc.entry(plumbing.ComputeHash(plumbing.BlobObject, v2), plumbing.OFSDeltaObject, appendOfsDelta(nil, int64(len(e1.data))), bytes.NewReader(d2), int64(len(d2)))
		if err != nil {
			tb.Fatal(err)
		}
		entries = append(entries, e2)
	}
	pack, _ := assemblePack(entries)
	return pack
}
