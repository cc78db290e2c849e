package acme

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDirCache(t *testing.T) {
	ctx := context.Background()
	dir := DirCache(filepath.Join(t.TempDir(), "certs"))
	if _, err := dir.Get(ctx, "a.pem"); !errors.Is(err, ErrCacheMiss) {
		t.Fatalf("Get before Put: %v, want ErrCacheMiss", err)
	}
	if err := dir.Put(ctx, "a.pem", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := dir.Put(ctx, "a.pem", []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, err := dir.Get(ctx, "a.pem"); err != nil || string(b) != "two" {
		t.Fatalf("Get: %q %v", b, err)
	}
	for p, want := range map[string]os.FileMode{string(dir): 0o700, filepath.Join(string(dir), "a.pem"): 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	if entries, _ := os.ReadDir(string(dir)); len(entries) != 1 {
		t.Errorf("%d files in the cache, want 1 (no temporary left)", len(entries))
	}
	if err := dir.Delete(ctx, "a.pem"); err != nil {
		t.Fatal(err)
	}
	if err := dir.Delete(ctx, "a.pem"); err != nil {
		t.Errorf("Delete of a missing name: %v", err)
	}
	for _, bad := range []string{"", "..", "../x", "a/b"} {
		if err := dir.Put(ctx, bad, nil); err == nil {
			t.Errorf("Put(%q) succeeded", bad)
		}
	}
}
