// Package fastimport makes the bare repositories the benchmarks measure
// against: git init, then git fast-import fed commits on master, one
// second apart from a fixed date, committed by pasteur.
package fastimport

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
)

// Import is a running git fast-import into a new bare repository.
type Import struct {
	dir  string
	cmd  *exec.Cmd
	in   io.WriteCloser
	w    *bufio.Writer
	when int64
}

// Start makes the bare repository dir and starts git fast-import on it.
func Start(dir string) (*Import, error) {
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=master", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git init: %v %s", err, out)
	}
	cmd := exec.Command("git", "--git-dir="+dir, "fast-import", "--quiet")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &Import{dir: dir, cmd: cmd, in: in, w: bufio.NewWriterSize(in, 1<<20), when: 1700000000}, nil
}

// Commit adds a commit of msg on master whose file commands are files,
// each a whole fast-import command ("M 100644 inline PATH\ndata N\n...\n",
// "R FROM TO\n").
func (im *Import) Commit(msg string, files ...string) {
	im.when++
	fmt.Fprintf(im.w, "commit refs/heads/master\ncommitter pasteur <pasteur@localhost> %d +0000\ndata %d\n%s\n", im.when, len(msg), msg)
	for _, f := range files {
		im.w.WriteString(f)
	}
	im.w.WriteString("\n")
}

// File is the command that writes body at path.
func File(path, body string) string {
	return fmt.Sprintf("M 100644 inline %s\ndata %d\n%s\n", path, len(body), body)
}

// Close ends the import, waits for git, and gives each pack a reverse
// index, as git since 2.41 writes with every pack (and as hosted remotes
// have): without it, git upload-pack computes one for the whole pack to
// send even one object (0.3 s at 1M pastes), which every fetch by hash
// would pay.
func (im *Import) Close() error {
	if err := im.w.Flush(); err != nil {
		return err
	}
	im.in.Close()
	if err := im.cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w", err)
	}
	packs, _ := filepath.Glob(filepath.Join(im.dir, "objects", "pack", "*.pack"))
	for _, p := range packs {
		if out, err := exec.Command("git", "--git-dir="+im.dir, "index-pack", "--rev-index", p).CombinedOutput(); err != nil {
			return fmt.Errorf("git index-pack: %v %s", err, out)
		}
	}
	return nil
}

// ID returns a new 13-character id drawn from rng, as pasteur makes them.
func ID(rng *rand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 13)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
