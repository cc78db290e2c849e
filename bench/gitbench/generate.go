package main

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"

	"github.com/pasteur-dev/pasteur/bench/internal/fastimport"
)

// generate makes the bare repository dir/name holding n pastes in commits
// of 1,000, at the paths of layout, with git fast-import; n 0 is one empty
// commit.
func generate(dir, name string, n int, layout string) {
	repo := filepath.Join(dir, name)
	im, err := fastimport.Start(repo)
	if err != nil {
		fatalf("%v", err)
	}
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	im.Commit("Initial commit")
	var files []string
	trie := &node{}
	for i := range n {
		id := make([]byte, 13)
		for j := range id {
			id[j] = alphabet[rng.IntN(len(alphabet))]
		}
		body := fmt.Sprintf(`{"contents":"paste %d\n","encrypted":false}`+"\n", i)
		write := func(path string) {
			files = append(files, fastimport.File(path, body))
		}
		if layout == "adaptive" {
			trie.add(string(id), "", 0, write, func(from, to string) {
				files = append(files, fmt.Sprintf("R %s %s\n", from, to))
			})
		} else {
			write(layoutPath(layout, string(id)))
		}
		if len(files) >= 1000 || i == n-1 {
			im.Commit(fmt.Sprintf("Pastes %d", i), files...)
			files = files[:0]
		}
	}
	if err := im.Close(); err != nil {
		fatalf("%v", err)
	}
	// A reverse index, as git since 2.41 writes with every pack (and as
	// hosted remotes have): without it, git upload-pack computes one for
	// the whole pack to send even one object (0.3 s at 1M pastes), which
	// every fetch by hash would pay.
	packs, _ := filepath.Glob(filepath.Join(repo, "objects", "pack", "*.pack"))
	for _, p := range packs {
		if out, err := exec.Command("git", "--git-dir="+repo, "index-pack", "--rev-index", p).CombinedOutput(); err != nil {
			fatalf("git index-pack: %v %s", err, out)
		}
	}
}

// layoutPath is where gitsync put paste id in the fixed layouts.
func layoutPath(layout, id string) string {
	switch layout {
	case "two":
		return id[:2] + "/" + id
	case "nested":
		return id[:1] + "/" + id[1:2] + "/" + id
	}
	fatalf("unknown layout %q", layout)
	return ""
}

// Gitsync's adaptive layout (gitsync/internal/repo/layout.go): leaves at
// depth 2 or more, split into one-character directories past leafMax
// pastes.
const (
	minDepth = 2
	leafMax  = 64
)

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
