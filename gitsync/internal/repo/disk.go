package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
)

// disk makes a filesystem repository's writes durable. go-git's filesystem
// storage never calls fsync, and rewrites ref files in place. So pasteur
// writes its packs and their indexes itself (putPack), fsynced; disk
// fsyncs the loose objects go-git writes and their directories; and it
// writes the refs itself, git's way: a ".lock" file, fsynced, renamed over
// the ref, and the directory fsynced. Objects are always fsynced before a
// ref that reaches them is written.
type disk struct {
	dir string // the bare repository
}

// fsyncObjects fsyncs loose objects, their fan-out directories and objects/.
func (d *disk) fsyncObjects(hashes []plumbing.Hash) error {
	dirs := make(map[string]bool)
	for _, h := range hashes {
		hex := h.String()
		dir := filepath.Join(d.dir, "objects", hex[:2])
		if err := fsyncPath(filepath.Join(dir, hex[2:])); err != nil {
			return err
		}
		dirs[dir] = true
	}
	for dir := range dirs {
		if err := fsyncPath(dir); err != nil {
			return err
		}
	}
	return fsyncPath(filepath.Join(d.dir, "objects"))
}

// setRef durably points the loose ref name at h.
func (d *disk) setRef(name plumbing.ReferenceName, h plumbing.Hash) error {
	path := filepath.Join(d.dir, filepath.FromSlash(name.String()))
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		// Fsync the new directories up to the repository.
		for p := dir; p != d.dir && len(p) > len(d.dir); p = filepath.Dir(p) {
			if err := fsyncPath(filepath.Dir(p)); err != nil {
				return err
			}
		}
	}
	lock := path + ".lock"
	f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, h.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(lock, path)
	}
	if err != nil {
		_ = os.Remove(lock)
		return err
	}
	return fsyncPath(dir)
}

// fsyncRefDir fsyncs the directory of ref name, after go-git removed it.
func (d *disk) fsyncRefDir(name plumbing.ReferenceName) error {
	if err := fsyncPath(filepath.Dir(filepath.Join(d.dir, filepath.FromSlash(name.String())))); err != nil {
		return err
	}
	return fsyncPath(d.dir) // packed-refs
}

// fsyncAll fsyncs every file and directory of a newly initialised repository.
func (d *disk) fsyncAll() error {
	var dirs []string
	err := filepath.WalkDir(d.dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			dirs = append(dirs, path)
			return nil
		}
		return fsyncPath(path)
	})
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		if err := fsyncPath(dir); err != nil {
			return err
		}
	}
	return fsyncPath(filepath.Dir(d.dir))
}

// fsyncPath fsyncs a file or directory.
func fsyncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}
