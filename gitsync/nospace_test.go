package gitsync

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pasteur-dev/pasteur/paste"
)

// TestDiskFull: on a full disk (a small tmpfs the test mounts) a paste is
// refused with ErrUnavailable (503), not an internal error; once there is
// room again pastes are stored, and a restart removes what the full disk
// left in objects/pack.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("PASTEUR_E2E") != "" {
			t.Fatal("mounting a tmpfs needs root")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=2m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir := filepath.Join(mnt, "repo")
	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, &paste.Paste{ID: "before", Contents: []byte("stored")})

	fill := filepath.Join(mnt, "fill")
	f, err := os.Create(fill)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	// Larger than what is left in the pages of the write-ahead log.
	err = s.Create(context.Background(), &paste.Paste{ID: "full", Contents: bytes.Repeat([]byte("no room "), 8<<10)})
	if !errors.Is(err, paste.ErrUnavailable) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Create on a full disk: %v, want ErrUnavailable (ENOSPC)", err)
	}
	t.Log(err)

	os.Remove(fill)
	mustCreate(t, s, &paste.Paste{ID: "after", Contents: []byte("room again")})
	s.Close()
	// What the full disk left: go-git's empty temporary object.
	left, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "tmp_*"))
	t.Logf("left by the full disk: %v", left)
	s, err = Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustGet(t, s, "before")
	mustGet(t, s, "after")
	if left, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "tmp_*")); len(left) > 0 {
		t.Errorf("left after a restart: %v", left)
	}
}
