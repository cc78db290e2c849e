package repo

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// The cache keeps what was put or found since the last turn, and at
// most its bound of entries and one generation more.
func TestTreeCache(t *testing.T) {
	c := newTreeCache(40) // generations of 20 entries: 5 trees of 3 entries
	hash := func(i int) plumbing.Hash {
		var h plumbing.Hash
		h[0], h[1] = byte(i), 1
		return h
	}
	three := &object.Tree{Entries: make([]object.TreeEntry, 3)}
	for i := range 5 {
		c.put(hash(i), three)
	}
	// Tree 0 is found in the old generation after the turn, and moves up.
	c.put(hash(5), three)
	if _, ok := c.get(hash(0)); !ok {
		t.Fatal("tree 0 gone after one turn")
	}
	for i := 6; i < 10; i++ {
		c.put(hash(i), three)
	}
	// Another turn: 1-4 were neither put nor found since the last one.
	c.put(hash(10), three)
	for i := 1; i <= 4; i++ {
		if _, ok := c.get(hash(i)); ok {
			t.Fatalf("tree %d kept two turns without use", i)
		}
	}
	for _, i := range []int{0, 5, 9, 10} {
		if _, ok := c.get(hash(i)); !ok {
			t.Fatalf("tree %d dropped", i)
		}
	}
}

// TestTreeCacheDemotedBounded: versions replaced one after another (a
// commit of each paste, in a repository whose trees all fit in the young
// generation, so that it never turns) are not all kept: the cache stays
// within its bound, the replaced versions included.
func TestTreeCacheDemotedBounded(t *testing.T) {
	c := newTreeCache(40)
	hash := func(i int) plumbing.Hash {
		var h plumbing.Hash
		h[0], h[1], h[2] = byte(i), byte(i>>8), 1
		return h
	}
	three := &object.Tree{Entries: make([]object.TreeEntry, 3)}
	c.put(hash(0), three)
	for i := 1; i < 1000; i++ {
		c.put(hash(i), three)
		c.demote(hash(i - 1))
	}
	n := 0
	for _, g := range []map[plumbing.Hash]*object.Tree{c.young, c.old} {
		for _, t := range g {
			n += len(t.Entries) + 1
		}
	}
	if n > c.max+c.max/2 {
		t.Fatalf("%d entries kept, bound %d", n, c.max)
	}
	if _, ok := c.get(hash(999)); !ok {
		t.Fatal("the newest version gone")
	}
}
