package fastimport

import "fmt"

// Gitsync's adaptive layout (gitsync/internal/repo/layout.go): leaves at
// depth 2 or more, split into one-character directories past leafMax
// pastes.
const (
	minDepth = 2
	leafMax  = 64
)

// Adaptive places pastes as gitsync's adaptive layout does, so that a
// generated history has the trees pasteur would have written.
type Adaptive struct {
	root node
}

// Add returns the file commands that write paste id with body, and move
// the files of each leaf it splits.
func (a *Adaptive) Add(id, body string) []string {
	var files []string
	a.root.add(id, "", 0, func(path string) {
		files = append(files, File(path, body))
	}, func(from, to string) {
		files = append(files, fmt.Sprintf("R %s %s\n", from, to))
	})
	return files
}

// Git's tree entries: "MODE NAME\0" and a 20-byte hash.
const (
	FileEntry = len("100644 ") + 13 + 1 + 20 // a paste of 13 characters
	DirEntry  = len("40000 ") + 1 + 1 + 20   // a one-character directory
)

// Cost returns the bytes of the trees that adding paste id would rewrite
// (the root, the directories on its path and its leaf), the depth of its
// leaf, and the most entries among those trees.
func (a *Adaptive) Cost(id string) (bytes, depth, most int) {
	return a.root.cost(id, 0)
}

// node is a tree of the adaptive layout: a leaf holds files, a split tree
// holds directories.
type node struct {
	files []string
	dirs  map[byte]*node
}

// add places id in the tree at path prefix and depth, in its leaf, and
// writes it with write; a leaf grown past leafMax then splits, telling
// move of each file that moves.
func (t *node) add(id, prefix string, depth int, write func(path string), move func(from, to string)) {
	if depth < minDepth || t.dirs != nil {
		t.child(id[depth]).add(id, prefix+id[depth:depth+1]+"/", depth+1, write, move)
		return
	}
	t.files = append(t.files, id)
	write(prefix + id)
	t.split(prefix, depth, move)
}

// split moves the files of a leaf past leafMax into one-character
// directories, and splits those in turn.
func (t *node) split(prefix string, depth int, move func(from, to string)) {
	if len(t.files) <= leafMax {
		return
	}
	files := t.files
	t.files = nil
	for _, f := range files {
		t.child(f[depth]).files = append(t.child(f[depth]).files, f)
		move(prefix+f, prefix+f[depth:depth+1]+"/"+f)
	}
	for b, c := range t.dirs {
		c.split(prefix+string(b)+"/", depth+1, move)
	}
}

func (t *node) child(c byte) *node {
	if t.dirs == nil {
		t.dirs = map[byte]*node{}
	}
	if t.dirs[c] == nil {
		t.dirs[c] = &node{}
	}
	return t.dirs[c]
}

// cost returns the bytes of the trees that adding id rewrites below t (at
// depth), the depth of its leaf, and the most entries among those trees.
func (t *node) cost(id string, depth int) (bytes, leafDepth, most int) {
	if depth < minDepth || t.dirs != nil {
		var c *node
		if t.dirs != nil {
			c = t.dirs[id[depth]]
		}
		entries := len(t.dirs)
		if c == nil {
			entries++
			c = &node{}
		}
		b, d, m := c.cost(id, depth+1)
		return b + entries*DirEntry, d, max(m, entries)
	}
	entries := len(t.files) + 1
	if entries > leafMax {
		// This paste splits the leaf: a directory of at most 36
		// entries and leaves of about 64/36 each.
		return 36*DirEntry + 2*FileEntry, depth + 1, 36
	}
	return entries * FileEntry, depth, entries
}
