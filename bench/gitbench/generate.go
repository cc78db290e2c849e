package main

import (
	"fmt"
	"math/rand/v2"
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
	im.Commit("Initial commit")
	var files []string
	var adaptive fastimport.Adaptive
	for i := range n {
		id := fastimport.ID(rng)
		body := fmt.Sprintf(`{"contents":"paste %d\n","encrypted":false}`+"\n", i)
		if layout == "adaptive" {
			files = append(files, adaptive.Add(id, body)...)
		} else {
			files = append(files, fastimport.File(layoutPath(layout, id), body))
		}
		if len(files) >= 1000 || i == n-1 {
			im.Commit(fmt.Sprintf("Pastes %d", i), files...)
			files = files[:0]
		}
	}
	if err := im.Close(); err != nil {
		fatalf("%v", err)
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
