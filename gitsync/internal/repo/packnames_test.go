package repo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"

	"github.com/pasteur-dev/pasteur/paste"
)

// vanishing lists directories as billy's osfs does when a file goes
// between the listing of the names and the stat of each (a repack's Sync
// deleting the old packs without the lock): ErrNotExist.
type vanishing struct{ billy.Filesystem }

func (v vanishing) ReadDir(path string) ([]os.FileInfo, error) {
	return nil, &fs.PathError{Op: "lstat", Path: v.Join(path, "pack-gone.pack"), Err: fs.ErrNotExist}
}

// TestPackNamesVanishing: the packs of a repository on disk are listed
// without billy's ReadDir, whose failure when a file goes was taken for a
// repository without packs (which packSet kept until the next merge or
// repack: every object of the packs read as absent, as after a
// completion's repack under load).
func TestPackNamesVanishing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r.git")
	r := open(t, dir)
	for i := range 3 {
		commit(t, r, &paste.Paste{ID: fmt.Sprintf("vanish%d", i), Contents: []byte("x"), Created: time.Unix(1700000000, 0)})
	}
	if err := r.mergeSmall(); err != nil {
		t.Fatal(err)
	}
	tip, err := r.Ref(master)
	if err != nil {
		t.Fatal(err)
	}
	s := newPackSet(vanishing{r.files}, r.disk.dir)
	if o, err := s.get(tip); o == nil || err != nil {
		t.Fatalf("the tip while files go from objects/pack: %v, %v", o, err)
	}
	// In memory, and on disk, no pack directory is no packs.
	if names, err := packNames(memfs.New(), ""); names != nil || err != nil {
		t.Fatalf("no pack directory in memory: %v, %v", names, err)
	}
	if names, err := packNames(memfs.New(), t.TempDir()); names != nil || err != nil {
		t.Fatalf("no pack directory on disk: %v, %v", names, err)
	}
}
