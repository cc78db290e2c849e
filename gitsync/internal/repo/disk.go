package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

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

// fsyncObjects fsyncs loose objects, then their fan-out directories and
// objects/, each step's fsyncs at once.
func (d *disk) fsyncObjects(hashes []plumbing.Hash) error {
	files := make([]string, 0, len(hashes))
	dirs := []string{filepath.Join(d.dir, "objects")}
	for _, h := range hashes {
		hex := h.String()
		dir := filepath.Join(d.dir, "objects", hex[:2])
		files = append(files, filepath.Join(dir, hex[2:]))
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	if err := fsyncPaths(files); err != nil {
		return err
	}
	return fsyncPaths(dirs)
}

// refUpdate is a ref's ".lock" file being written and fsynced in the
// background.
type refUpdate struct {
	path, lock string
	written    chan error
}

// prepareRef starts writing and fsyncing the ".lock" file of ref name,
// holding h. The caller makes the objects that h reaches durable in the
// meantime, so that the two fsyncs overlap, and then calls commit (or
// abort).
func (d *disk) prepareRef(name plumbing.ReferenceName, h plumbing.Hash) *refUpdate {
	path := filepath.Join(d.dir, filepath.FromSlash(name.String()))
	u := &refUpdate{path: path, lock: path + ".lock", written: make(chan error, 1)}
	go func() { u.written <- writeLock(d.dir, filepath.Dir(path), u.lock, h) }()
	return u
}

// commit waits for the lock file, renames it over the ref and fsyncs the
// ref's directory.
func (u *refUpdate) commit() error {
	err := <-u.written
	if err == nil {
		err = os.Rename(u.lock, u.path)
	}
	if err != nil {
		_ = os.Remove(u.lock)
		return err
	}
	return fsyncPath(filepath.Dir(u.path))
}

// abort waits for the lock file and removes it: the ref stays as it was.
func (u *refUpdate) abort() {
	<-u.written
	_ = os.Remove(u.lock)
}

// writeLock writes h to the file lock in dir, fsynced, making dir (and
// its parents up to the repository, fsynced) if it is missing.
func writeLock(repo, dir, lock string, h plumbing.Hash) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		// Fsync the new directories up to the repository.
		for p := dir; p != repo && len(p) > len(repo); p = filepath.Dir(p) {
			if err := fsyncPath(filepath.Dir(p)); err != nil {
				return err
			}
		}
	}
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
	return err
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

// fsyncPaths fsyncs files or directories, all at once: the disk's flushes
// overlap (on a journalling filesystem they join one commit) rather than
// follow each other.
func fsyncPaths(paths []string) error {
	if len(paths) == 1 {
		return fsyncPath(paths[0])
	}
	errs := make(chan error, len(paths))
	for _, p := range paths {
		go func() { errs <- fsyncPath(p) }()
	}
	var err error
	for range paths {
		err = errors.Join(err, <-errs)
	}
	return err
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
