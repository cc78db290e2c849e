package main

import (
	"fmt"
	"math/rand/v2"
)

// Git's tree entries: "MODE NAME\0" and a 20-byte hash.
const (
	fileEntry = len("100644 ") + 13 + 1 + 20 // a paste of 13 characters
	dirEntry  = len("40000 ") + 1 + 1 + 20   // a one-character directory
)

// trend grows the adaptive layout's trie to n random 13-character ids and,
// at each power of ten from 1,000, prints the bytes of the trees that a
// new paste rewrites (the root, the directories on its path and its leaf,
// the mean over a sample of new ids), the largest of them in entries, and
// the same for the ID[0]/ID[1]/ID layout, computed from the same ids. No
// repository is written: these are the trees' sizes, uncompressed, as a
// commit writes them and a push sends them.
func trend(n int) {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	newID := func() string {
		b := make([]byte, 13)
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	trie := &node{}
	nested := map[string]int{} // ID[0:2] -> pastes in the leaf
	firsts := map[byte]map[byte]bool{}
	fmt.Printf("%10s  %-44s  %-44s\n", "pastes", "adaptive (leaves split past 64)", "ID[0]/ID[1]/ID")
	next := 1000
	for i := 1; i <= n; i++ {
		id := newID()
		trie.add(id, "", 0, func(string) {}, func(string, string) {})
		nested[id[:2]]++
		if firsts[id[0]] == nil {
			firsts[id[0]] = map[byte]bool{}
		}
		firsts[id[0]][id[1]] = true
		if i != next {
			continue
		}
		next *= 10
		const sample = 2000
		var aBytes, nBytes, aDepth float64
		aMax, nMax := 0, 0
		for range sample {
			id := newID()
			b, depth, most := trie.cost(id, 0)
			aBytes, aDepth = aBytes+float64(b), aDepth+float64(depth)
			aMax = max(aMax, most)
			leaf := nested[id[:2]] + 1
			nb := len(firsts)*dirEntry + len(firsts[id[0]])*dirEntry + leaf*fileEntry
			nBytes += float64(nb)
			nMax = max(nMax, leaf)
		}
		fmt.Printf("%10d  %6.0f bytes/paste, depth %.2f, largest %3d  %6.0f bytes/paste, largest leaf %5d\n",
			i, aBytes/sample, aDepth/sample, aMax, nBytes/sample, nMax)
	}
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
		return b + entries*dirEntry, d, max(m, entries)
	}
	entries := len(t.files) + 1
	if entries > leafMax {
		// This paste splits the leaf: a directory of at most 36
		// entries and leaves of about 64/36 each.
		return 36*dirEntry + 2*fileEntry, depth + 1, 36
	}
	return entries * fileEntry, depth, entries
}
