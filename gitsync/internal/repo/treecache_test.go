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
