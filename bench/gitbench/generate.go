package main

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"

	"github.com/pasteur-dev/pasteur/bench/internal/fastimport"
)

// genOptions says how generate makes a repository: at the paths of
// layout, and repacked as git gc would when gc is set.
type genOptions struct {
	layout string
	gc     bool
}

// generate makes the bare repository dir/name holding n pastes in commits
// of 1,000, at the paths of g.layout, with git fast-import; n 0 is one
// empty commit.
func generate(dir, name string, n int, g genOptions) {
	layout := g.layout
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
	if g.gc {
		out, err := exec.Command("git", "-C", repo, "repack", "-q", "-a", "-d", "-f", "--window=10", "--depth=50").CombinedOutput()
		if err != nil {
			fatalf("git repack: %v %s", err, out)
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
