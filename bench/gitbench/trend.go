package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/pasteur-dev/pasteur/bench/internal/fastimport"
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
	newID := func() string { return fastimport.ID(rng) }
	var trie fastimport.Adaptive
	nested := map[string]int{} // ID[0:2] -> pastes in the leaf
	firsts := map[byte]map[byte]bool{}
	fmt.Printf("%10s  %-44s  %-44s\n", "pastes", "adaptive (leaves split past 64)", "ID[0]/ID[1]/ID")
	next := 1000
	for i := 1; i <= n; i++ {
		id := newID()
		trie.Add(id, "")
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
			b, depth, most := trie.Cost(id)
			aBytes, aDepth = aBytes+float64(b), aDepth+float64(depth)
			aMax = max(aMax, most)
			leaf := nested[id[:2]] + 1
			nb := len(firsts)*fastimport.DirEntry + len(firsts[id[0]])*fastimport.DirEntry + leaf*fastimport.FileEntry
			nBytes += float64(nb)
			nMax = max(nMax, leaf)
		}
		fmt.Printf("%10d  %6.0f bytes/paste, depth %.2f, largest %3d  %6.0f bytes/paste, largest leaf %5d\n",
			i, aBytes/sample, aDepth/sample, aMax, nBytes/sample, nMax)
	}
}
