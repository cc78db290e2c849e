package gitsync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// disk makes a filesystem repository's writes durable. go-git's filesystem
// storage never calls fsync: it writes packs to a temporary file renamed
// into place, and rewrites ref files in place. So after go-git writes a pack
// (pasteur writes objects as packs only, see batch), disk fsyncs it and its
// directories; and it writes the refs itself, git's way: a ".lock" file, fsynced, renamed over the ref, and
// the directory fsynced. Objects are always synced before a ref that reaches
// them is written.
type disk struct {
	dir string // the bare repository
}

// packs lists the files in objects/pack.
func (d *disk) packs() (map[string]bool, error) {
	entries, err := os.ReadDir(filepath.Join(d.dir, "objects", "pack"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names, nil
}

// syncNewPacks fsyncs the pack files that are not in before, and their
// directory, and returns the names of the new packs' hashes.
func (d *disk) syncNewPacks(before map[string]bool) ([]plumbing.Hash, error) {
	after, err := d.packs()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(d.dir, "objects", "pack")
	var added []plumbing.Hash
	for name := range after {
		if !before[name] {
			if err := syncPath(filepath.Join(dir, name)); err != nil {
				return nil, err
			}
			if hex, ok := strings.CutSuffix(strings.TrimPrefix(name, "pack-"), ".pack"); ok {
				added = append(added, plumbing.NewHash(hex))
			}
		}
	}
	if err := syncPath(dir); err != nil {
		return nil, err
	}
	return added, syncPath(filepath.Join(d.dir, "objects"))
}

// syncObjects fsyncs loose objects, their fan-out directories and objects/.
func (d *disk) syncObjects(hashes []plumbing.Hash) error {
	dirs := make(map[string]bool)
	for _, h := range hashes {
		hex := h.String()
		dir := filepath.Join(d.dir, "objects", hex[:2])
		if err := syncPath(filepath.Join(dir, hex[2:])); err != nil {
			return err
		}
		dirs[dir] = true
	}
	for dir := range dirs {
		if err := syncPath(dir); err != nil {
			return err
		}
	}
	return syncPath(filepath.Join(d.dir, "objects"))
}

// setRef durably points the loose ref name at h.
func (d *disk) setRef(name plumbing.ReferenceName, h plumbing.Hash) error {
	path := filepath.Join(d.dir, filepath.FromSlash(name.String()))
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		// Sync the new directories up to the repository.
		for p := dir; p != d.dir && len(p) > len(d.dir); p = filepath.Dir(p) {
			if err := syncPath(filepath.Dir(p)); err != nil {
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
	return syncPath(dir)
}

// syncRefDir fsyncs the directory of ref name, after go-git removed it.
func (d *disk) syncRefDir(name plumbing.ReferenceName) error {
	if err := syncPath(filepath.Dir(filepath.Join(d.dir, filepath.FromSlash(name.String())))); err != nil {
		return err
	}
	return syncPath(d.dir) // packed-refs
}

// syncAll fsyncs every file and directory of a newly initialised repository.
func (d *disk) syncAll() error {
	var dirs []string
	err := filepath.WalkDir(d.dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			dirs = append(dirs, path)
			return nil
		}
		return syncPath(path)
	})
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		if err := syncPath(dir); err != nil {
			return err
		}
	}
	return syncPath(filepath.Dir(d.dir))
}

// syncPath fsyncs a file or directory.
func syncPath(path string) error {
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
