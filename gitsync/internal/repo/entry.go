package repo

import (
	"sort"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// findEntry returns the entry of tree t named name, a single path
// component, or nil: a binary search in git's order that allocates
// nothing (go-git's FindEntry splits the path, makes a map per tree and
// builds each directory's name with its slash as it compares). Every id
// check of a new paste looks up two or three names this way.
func findEntry(t *object.Tree, name string) *object.TreeEntry {
	es := t.Entries
	// A directory sorts as its name and "/": look for both places.
	for _, slash := range [2]bool{false, true} {
		i := sort.Search(len(es), func(i int) bool { return compareSortName(&es[i], name, slash) >= 0 })
		if i < len(es) && es[i].Name == name {
			return &es[i]
		}
	}
	return nil
}

// compareSortName compares e's name as git sorts it (a directory's with a
// "/" after it) with name, followed by "/" when slash.
func compareSortName(e *object.TreeEntry, name string, slash bool) int {
	a, b := e.Name, name
	n := min(len(a), len(b))
	if a[:n] != b[:n] {
		if a[:n] < b[:n] {
			return -1
		}
		return 1
	}
	for i := n; ; i++ {
		ca, cb := sortByte(a, e.Mode == filemode.Dir, i), sortByte(b, slash, i)
		switch {
		case ca < cb:
			return -1
		case ca > cb:
			return 1
		case ca < 0:
			return 0
		}
	}
}

// sortByte is byte i of s followed by "/" when slash, or -1 past its end.
func sortByte(s string, slash bool, i int) int {
	switch {
	case i < len(s):
		return int(s[i])
	case i == len(s) && slash:
		return '/'
	}
	return -1
}
