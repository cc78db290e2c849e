package repo

import (
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// treeCache keeps decoded trees, up to max entries of them, in two
// generations: new trees go into the young one, and when it holds max/2
// entries the old one is dropped and the young one takes its place. A tree found in the old
// generation moves to the young one. What was read or written since the
// last turn stays: a commit's trees (the root, the directories under it,
// the leaves its pastes went to) and those the id checks of the next
// groups read, where emptying the whole cache when full made them all come
// back from their packs at once.
type treeCache struct {
	young, old map[plumbing.Hash]*object.Tree
	entries    int // in young
	// demoted: the entries demote moved to old since the last turn, at
	// most max/4. Without a bound, a repository whose trees fit in the
	// young generation never turned, and old kept every version a
	// commit replaced until a settle (none under a steady load).
	demoted int
	max     int
}

func newTreeCache(max int) *treeCache {
	return &treeCache{young: make(map[plumbing.Hash]*object.Tree), max: max}
}

// get returns tree h, if kept.
func (c *treeCache) get(h plumbing.Hash) (*object.Tree, bool) {
	if t, ok := c.young[h]; ok {
		return t, true
	}
	t, ok := c.old[h]
	if ok {
		delete(c.old, h)
		c.put(h, t)
	}
	return t, ok
}

// put keeps tree t, whose hash is h.
func (c *treeCache) put(h plumbing.Hash, t *object.Tree) {
	if c.entries >= c.max/2 {
		c.old, c.young, c.entries = c.young, make(map[plumbing.Hash]*object.Tree, len(c.young)), 0
		c.demoted = 0
	}
	if _, ok := c.young[h]; !ok {
		c.entries += len(t.Entries) + 1
	}
	c.young[h] = t
}

// demote moves tree h, which a newer version replaced, to the old
// generation, dropped at the next turn unless read again: the young one
// keeps the versions the branch names, which the id checks and the next
// commits read, instead of filling with the ones each commit replaced
// (half of what a create load put in it). A push reads the replaced
// versions soon after (the thin pack's bases), before the next turn.
// Past max/4 entries demoted since the last turn, h is dropped at once.
func (c *treeCache) demote(h plumbing.Hash) {
	t, ok := c.young[h]
	if !ok {
		return
	}
	n := len(t.Entries) + 1
	delete(c.young, h)
	c.entries -= n
	if c.demoted+n > c.max/4 {
		return // dropped: old holds enough replaced versions
	}
	c.demoted += n
	if c.old == nil {
		c.old = make(map[plumbing.Hash]*object.Tree)
	}
	c.old[h] = t
}

// trim keeps tree root and the trees it names, when kept, and drops the
// rest: the levels every id check starts from, without the leaves.
func (c *treeCache) trim(root plumbing.Hash) {
	keep := make(map[plumbing.Hash]*object.Tree)
	entries := 0
	add := func(h plumbing.Hash) *object.Tree {
		t, ok := c.young[h]
		if !ok {
			t, ok = c.old[h]
		}
		if ok {
			keep[h] = t
			entries += len(t.Entries) + 1
		}
		return t
	}
	if t := add(root); t != nil {
		for _, e := range t.Entries {
			if e.Mode == filemode.Dir {
				add(e.Hash)
			}
		}
	}
	c.young, c.old, c.entries, c.demoted = keep, nil, entries, 0
}
