package repo

import (
	"errors"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// FuzzDecodeTree: decodeTree accepts what go-git's decoder accepts, and
// gives the same entries; it never panics.
func FuzzDecodeTree(f *testing.F) {
	h := plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")
	entry := func(mode, name string) string { return mode + " " + name + "\x00" + string(h[:]) }
	for _, s := range []string{
		"",
		entry("100644", "a") + entry("40000", "b"),
		entry("040000", "dir") + entry("100664", "f") + entry("100755", "x") + entry("120000", "l") + entry("160000", "m"),
		entry("7", "odd") + entry("37777777777", "max"),
		entry("40000000000", "over"),
		entry("", "nomode"),
		entry("1008", "eight"),
		"100644 a\x00short",
		"100644 a",
		"100644 \x00" + string(h[:]),
		"100644",
		entry("100644", "b") + entry("100644", "a"), // unsorted: both keep the order
		entry("+644", "sign"),
		entry("100644", "sp ace"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o plumbing.MemoryObject
		o.SetType(plumbing.TreeObject)
		o.Write(data)
		var want object.Tree
		werr := want.Decode(&o)
		got, err := decodeTree(o.Hash(), data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: error %v, go-git's %v", data, err, werr)
		}
		if err != nil {
			if !errors.Is(err, errMalformedTree) {
				t.Fatalf("%q: %v does not wrap errMalformedTree", data, err)
			}
			return
		}
		if got.Hash != want.Hash || len(got.Entries) != len(want.Entries) {
			t.Fatalf("%q: %d entries, go-git %d", data, len(got.Entries), len(want.Entries))
		}
		for i, e := range got.Entries {
			if w := want.Entries[i]; e.Name != w.Name || e.Mode != w.Mode || e.Hash != w.Hash {
				t.Fatalf("%q: entry %d %+v, go-git %+v", data, i, e, w)
			}
		}
	})
}
