package repo

import (
	"sort"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// findEntry finds what go-git's FindEntry finds, in trees whose names
// sort differently as files and as directories ("a" against "a.b" and
// "a-"; "/" sorts after "-" and "." and before "0").
func TestFindEntry(t *testing.T) {
	names := []string{"a", "a-", "a.b", "a0", "ab", "b", "b.c", "bb", "c", "x", "0", "Z"}
	for mask := range 1 << 6 {
		var es []object.TreeEntry
		for i, n := range names {
			mode := filemode.Regular
			if i < 6 && mask&(1<<i) != 0 || i >= 6 && mask&(1<<(i-6)) == 0 {
				mode = filemode.Dir
			}
			es = append(es, object.TreeEntry{Name: n, Mode: mode})
		}
		sort.Sort(object.TreeEntrySorter(es))
		tree := &object.Tree{Entries: es}
		for _, n := range append(names, "aa", "zz", "-") {
			want, err := tree.FindEntry(n)
			got := findEntry(tree, n)
			if (err == nil) != (got != nil) || got != nil && got != want {
				t.Fatalf("mask %b, %q: findEntry %v, FindEntry %v %v", mask, n, got, want, err)
			}
		}
	}
}
