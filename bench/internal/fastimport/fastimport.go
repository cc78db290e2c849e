// Package fastimport makes the bare repositories the benchmarks measure
// against: git init, then git fast-import fed commits on master, one
// second apart from a fixed date, committed by pasteur.
package fastimport

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// Import is a running git fast-import into a new bare repository.
type Import struct {
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
	return &Import{cmd: cmd, in: in, w: bufio.NewWriterSize(in, 1<<20), when: 1700000000}, nil
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

// Close ends the import and waits for git.
func (im *Import) Close() error {
	if err := im.w.Flush(); err != nil {
		return err
	}
	im.in.Close()
	if err := im.cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w", err)
	}
	return nil
}
