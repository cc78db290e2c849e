package transport

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
)

// TestRefusal: a remote whose pre-receive hook says no refuses the push
// with ErrRefused, and the error carries the hook's message.
func TestRefusal(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "r.git", true)
	hook := "#!/bin/sh\necho 'pushes are closed: over quota' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := New(url, dial, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	old, next, pack := newCommit(t, dir)
	p, err := r.Push(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.Send(ctx(t), master, old, next, pack)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "over quota") {
		t.Fatalf("err = %v, want ErrRefused with the hook's message", err)
	}
	t.Log(err)
}
