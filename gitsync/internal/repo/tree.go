package repo

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
)

// errBlocked: a path cannot exist in a tree because one of its directories
// is a file there.
var errBlocked = errors.New("a parent directory is a file")

// file is a blob to place in a tree at a slash-separated path.
type file struct {
	path string
	hash plumbing.Hash
	mode filemode.FileMode
}

// entryAt returns the entry at path in tree root (ZeroHash: the empty tree),
// and whether there is one. The error wraps errBlocked when a directory of
// path is a file.
func (r *Repo) entryAt(root plumbing.Hash, path string) (object.TreeEntry, bool, error) {
	h := root
	for {
		if h.IsZero() {
			return object.TreeEntry{}, false, nil
		}
		t, err := r.tree(h)
		if err != nil {
			return object.TreeEntry{}, false, err
		}
		name, rest, nested := strings.Cut(path, "/")
		e := findEntry(t, name)
		if e == nil {
			return object.TreeEntry{}, false, nil
		}
		if !nested {
			return *e, true, nil
		}
		if e.Mode != filemode.Dir {
			return object.TreeEntry{}, false, fmt.Errorf("%s: %w", path, errBlocked)
		}
		h, path = e.Hash, rest
	}
}

// addFiles stores the tree made of tree base (ZeroHash: the empty tree) and
// files, and returns its hash. Every path must be free: one already taken is
// an error wrapping paste.ErrExists, one under a file wraps errBlocked.
func (r *Repo) addFiles(base plumbing.Hash, files []file) (plumbing.Hash, error) {
	return r.writeTree(base, files, false)
}

// setFiles is addFiles, except that a file may replace a file at its path.
func (r *Repo) setFiles(base plumbing.Hash, files []file) (plumbing.Hash, error) {
	return r.writeTree(base, files, true)
}

// writeTree is addFiles, and setFiles with replace.
func (r *Repo) writeTree(base plumbing.Hash, files []file, replace bool) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !base.IsZero() {
		t, err := r.tree(base)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, t.Entries...)
	}
	index := make(map[string]int, len(entries))
	for i, e := range entries {
		index[e.Name] = i
	}

	subdirs := make(map[string][]file)
	var order []string // subdirectories in the order met, for determinism
	for _, f := range files {
		name, rest, nested := strings.Cut(f.path, "/")
		if nested {
			if subdirs[name] == nil {
				order = append(order, name)
			}
			subdirs[name] = append(subdirs[name], file{path: rest, hash: f.hash, mode: f.mode})
			continue
		}
		if i, ok := index[name]; ok {
			if !replace || entries[i].Mode == filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s: %w", name, paste.ErrExists)
			}
			entries[i] = object.TreeEntry{Name: name, Mode: f.mode, Hash: f.hash}
			continue
		}
		index[name] = len(entries)
		entries = append(entries, object.TreeEntry{Name: name, Mode: f.mode, Hash: f.hash})
	}
	for _, name := range order {
		sub := plumbing.ZeroHash
		i, ok := index[name]
		if ok {
			if entries[i].Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s: %w", name, errBlocked)
			}
			sub = entries[i].Hash
		}
		h, err := r.writeTree(sub, subdirs[name], replace)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s/%w", name, err)
		}
		if ok {
			entries[i].Hash = h
		} else {
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
	}

	return r.putTree(base, entries)
}

// walkChanges calls fn for every entry of tree to that tree from lacks or
// holds with other contents (either tree may be ZeroHash, the empty tree),
// descending into changed directories, which fn sees too. Entries that from
// holds and to lacks are not reported.
func (r *Repo) walkChanges(from, to plumbing.Hash, prefix string, fn func(path string, e object.TreeEntry) error) error {
	return r.walkDiff(from, to, prefix, func(p string, e object.TreeEntry, _ plumbing.Hash) error { return fn(p, e) })
}

// walkDiff is walkChanges, with fn told what from held at the entry's
// path with the same mode (ZeroHash: nothing, or another mode).
func (r *Repo) walkDiff(from, to plumbing.Hash, prefix string, fn func(path string, e object.TreeEntry, before plumbing.Hash) error) error {
	if from == to {
		return nil
	}
	t, err := r.tree(to)
	if err != nil {
		return err
	}
	var old *object.Tree
	if !from.IsZero() {
		if old, err = r.tree(from); err != nil {
			return err
		}
	}
	for _, e := range t.Entries {
		before := plumbing.ZeroHash
		if old != nil {
			if o := findEntry(old, e.Name); o != nil {
				if o.Hash == e.Hash && o.Mode == e.Mode {
					continue
				}
				if o.Mode == e.Mode {
					before = o.Hash
				}
			}
		}
		if err := fn(prefix+e.Name, e, before); err != nil {
			return err
		}
		if e.Mode == filemode.Dir {
			if err := r.walkDiff(before, e.Hash, prefix+e.Name+"/", fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// putTree writes a tree of entries, sorted in git's order (a directory
// sorts as "name/"), the new version of tree base (ZeroHash: none), and
// keeps it in the tree cache.
func (r *Repo) putTree(base plumbing.Hash, entries []object.TreeEntry) (plumbing.Hash, error) {
	sort.Sort(object.TreeEntrySorter(entries))
	t := &object.Tree{Entries: entries}
	data, err := appendTree(nil, entries)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	o := &plumbing.MemoryObject{}
	o.SetType(plumbing.TreeObject)
	o.Write(data)
	h, err := r.st.SetEncodedObject(o)
	if err != nil {
		return h, err
	}
	r.cacheTree(h, t)
	r.noteVersion(h, base)
	if !base.IsZero() && base != h {
		r.trees.demote(base)
	}
	if r.isRecording() {
		r.record(h, base, r.treeDelta(base, data))
	}
	return h, nil
}

// appendTree appends the encoding of a tree of entries, in git's order,
// to b: what object.Tree.Encode writes, without its fmt.Fprintf for each
// entry (a fifth of the CPU of a commit at 1M pastes, with the deltas of
// the records).
func appendTree(b []byte, entries []object.TreeEntry) ([]byte, error) {
	for _, e := range entries {
		if strings.IndexByte(e.Name, 0) != -1 {
			return nil, fmt.Errorf("malformed filename %q", e.Name)
		}
		b = strconv.AppendUint(b, uint64(e.Mode), 8)
		b = append(b, ' ')
		b = append(b, e.Name...)
		b = append(b, 0)
		b = append(b, e.Hash[:]...)
	}
	return b, nil
}

// treeDelta returns the delta that makes tree data (encoded) of tree
// base, when base is in the cache of decoded trees and the delta is worth
// sending; else nil.
func (r *Repo) treeDelta(base plumbing.Hash, data []byte) []byte {
	if base.IsZero() {
		return nil
	}
	bt, ok := r.trees.get(base)
	if !ok {
		return nil
	}
	src, err := appendTree(make([]byte, 0, len(data)+64), bt.Entries)
	// Decoding is not always undone by encoding (go-git makes modes
	// canonical: 100664 reads as 100644, 040000 as 40000): a delta
	// against other bytes than base's would make another object.
	if err != nil || plumbing.ComputeHash(plumbing.TreeObject, src) != base {
		return nil
	}
	delta, ok := deltaOf(src, data, len(base))
	if !ok {
		return nil
	}
	return delta
}

// putCommit writes commit c, the new version of its first parent.
func (r *Repo) putCommit(c *object.Commit) (plumbing.Hash, error) {
	h, err := r.put(c.Encode)
	if err == nil && len(c.ParentHashes) > 0 {
		r.noteVersion(h, c.ParentHashes[0])
		r.record(h, c.ParentHashes[0], nil)
	}
	return h, err
}
