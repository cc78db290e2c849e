package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/bench/internal/fastimport"
)

// cachedRepo returns the bare repository dir/gen-N.git of n pastes and
// their ids, oldest first (kept beside it in gen-N.ids), making both
// when they are missing.
func cachedRepo(dir string, n, group int) (string, []string) {
	repo := filepath.Join(dir, fmt.Sprintf("gen-%d-%d.git", n, group))
	list := strings.TrimSuffix(repo, ".git") + ".ids"
	if data, err := os.ReadFile(list); err == nil {
		if _, err := os.Stat(repo); err == nil {
			return repo, strings.Fields(string(data))
		}
	}
	os.RemoveAll(repo)
	t0 := time.Now()
	ids := generate(repo, n, group)
	if err := os.WriteFile(list, []byte(strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
		fatalf("%v", err)
	}
	fmt.Printf("generated %d pastes in commits of %d in %.0f s\n", n, group, time.Since(t0).Seconds())
	return repo, ids
}

// generate makes the bare repository dir of n pastes in pasteur's
// adaptive layout, committed group at a time as pasteur's group commit
// does under load, and returns their ids, oldest first.
func generate(dir string, n, group int) []string {
	im, err := fastimport.Start(dir)
	if err != nil {
		fatalf("%v", err)
	}
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	var layout fastimport.Adaptive
	ids := make([]string, n)
	var files []string
	for i := range n {
		id := fastimport.ID(rng)
		ids[i] = id
		body := fmt.Sprintf(`{"contents":"paste %d\n","encrypted":false,"delete_hash":"sha256:%016x%016x%016x%016x"}`+"\n",
			i, rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())
		files = append(files, layout.Add(id, body)...)
		if (i+1)%group == 0 || i == n-1 {
			im.Commit(fmt.Sprintf("Pastes %d", i), files...)
			files = files[:0]
		}
	}
	if err := im.Close(); err != nil {
		fatalf("%v", err)
	}
	return ids
}
