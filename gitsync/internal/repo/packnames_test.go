package repo

import (
	"errors"
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
// deleting the old packs without the lock): ErrNotExist, fails times.
type vanishing struct {
	billy.Filesystem
	fails int
}

func (v *vanishing) ReadDir(path string) ([]os.FileInfo, error) {
	if v.fails > 0 {
		v.fails--
		return nil, &fs.PathError{Op: "lstat", Path: v.Join(path, "pack-gone.pack"), Err: fs.ErrNotExist}
	}
	return v.Filesystem.ReadDir(path)
}

// TestPackNamesVanishing: a listing of the packs that lost a file is not
// taken for a repository without packs (which packSet kept until the next
// merge or repack: every object of the packs read as absent, as after a
// completion's repack under load); one that keeps losing files is an
// error, and the next read lists again.
func TestPackNamesVanishing(t *testing.T) {
	r := open(t, filepath.Join(t.TempDir(), "r.git"))
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
	v := &vanishing{Filesystem: r.files, fails: 1}
	s := newPackSet(v)
	if o, err := s.get(tip); o == nil || err != nil {
		t.Fatalf("the tip after a listing that lost a file: %v, %v", o, err)
	}
	s.close()
	v.fails = listTries
	if o, err := s.get(tip); o != nil || !errors.Is(err, fs.ErrNotExist) || s.listed {
		t.Fatalf("files that keep going: %v, %v (listed %v)", o, err, s.listed)
	}
	if o, err := s.get(tip); o == nil || err != nil {
		t.Fatalf("the next read: %v, %v", o, err)
	}
	// A repository without a pack directory has no packs.
	if names, err := packNames(&vanishing{Filesystem: memfs.New(), fails: 1}); names != nil || err != nil {
		t.Fatalf("no pack directory: %v, %v", names, err)
	}
}
