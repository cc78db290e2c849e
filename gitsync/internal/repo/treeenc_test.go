package repo

import (
	"bytes"
	"io"
	"sort"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// encodeTree writes what go-git's Tree.Encode writes.
func TestEncodeTreeAsGoGit(t *testing.T) {
	modes := []filemode.FileMode{filemode.Regular, filemode.Dir, filemode.Executable, filemode.Symlink, filemode.Submodule, filemode.Deprecated}
	for _, n := range []int{0, 1, 2, 40, 64} {
		var entries []object.TreeEntry
		for i := range n {
			var h plumbing.Hash
			h[0], h[19] = byte(i), byte(n)
			entries = append(entries, object.TreeEntry{Name: string(rune('a'+i%26)) + string(rune('A'+i/26)) + "x", Mode: modes[i%len(modes)], Hash: h})
		}
		sort.Sort(object.TreeEntrySorter(entries))
		var want, got plumbing.MemoryObject
		if err := (&object.Tree{Entries: entries}).Encode(&want); err != nil {
			t.Fatal(err)
		}
		if err := encodeTree(&got, entries); err != nil {
			t.Fatal(err)
		}
		if got.Type() != want.Type() || got.Hash() != want.Hash() || !bytes.Equal(objectBytes(t, &got), objectBytes(t, &want)) {
			t.Fatalf("%d entries: got %s, want %s", n, got.Hash(), want.Hash())
		}
	}
	var o plumbing.MemoryObject
	if err := encodeTree(&o, []object.TreeEntry{{Name: "a\x00b", Mode: filemode.Regular}}); err == nil {
		t.Fatal("a name with a NUL was encoded")
	}
}

func objectBytes(t *testing.T, o plumbing.EncodedObject) []byte {
	t.Helper()
	rd, err := o.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
