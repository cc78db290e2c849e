package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
)

// generate makes the bare repository dir/name holding n pastes in commits
// of 1,000, at the paths of layout, with git fast-import; n 0 is one empty
// commit.
func generate(dir, name string, n int, layout string) {
	repo := filepath.Join(dir, name)
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=master", repo).CombinedOutput(); err != nil {
		fatalf("git init: %v %s", err, out)
	}
	cmd := exec.Command("git", "--git-dir="+repo, "fast-import", "--quiet")
	in, err := cmd.StdinPipe()
	if err != nil {
		fatalf("%v", err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fatalf("%v", err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	when := int64(1700000000)
	commit := func(msg string, files []string) {
		when++
		fmt.Fprintf(w, "commit refs/heads/master\ncommitter pasteur <pasteur@localhost> %d +0000\ndata %d\n%s\n", when, len(msg), msg)
		for _, f := range files {
			w.WriteString(f)
		}
		w.WriteString("\n")
	}
	commit("Initial commit", nil)
	var files []string
	for i := range n {
		id := make([]byte, 13)
		for j := range id {
			id[j] = alphabet[rng.IntN(len(alphabet))]
		}
		body := fmt.Sprintf(`{"contents":"paste %d\n","encrypted":false}`+"\n", i)
		files = append(files, fmt.Sprintf("M 100644 inline %s\ndata %d\n%s\n", layoutPath(layout, string(id)), len(body), body))
		if len(files) == 1000 || i == n-1 {
			commit(fmt.Sprintf("Pastes %d", i), files)
			files = files[:0]
		}
	}
	if err := w.Flush(); err != nil {
		fatalf("%v", err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		fatalf("git fast-import: %v", err)
	}
}

// layoutPath is where gitsync puts paste id in layout.
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
