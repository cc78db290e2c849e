package repo

import (
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
)

// pasteFile is a paste's blob, to be placed in the adaptive layout.
type pasteFile struct {
	id   string
	hash plumbing.Hash
	mode filemode.FileMode
}

// insertPastes stores the tree made of tree base (ZeroHash: the empty
// tree), at depth in the adaptive layout (0: the root), with files added
// where the layout puts them, splitting the leaves they make too large,
// and returns its hash. An id already a file of a tree on its way is an
// error wrapping paste.ErrExists; a file where a directory would go, one
// wrapping errBlocked (placePaste sends such pastes elsewhere).
func (r *Repo) insertPastes(base plumbing.Hash, depth int, files []pasteFile) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !base.IsZero() {
		t, err := r.tree(base)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, t.Entries...)
	}
	split := depth < minDepth || hasCharDir(entries)
	down := make(map[string][]pasteFile) // by the next character
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		names[e.Name] = true
	}
	for _, f := range files {
		if split && len(f.id) > depth {
			c := f.id[depth : depth+1]
			down[c] = append(down[c], f)
			continue
		}
		if names[f.id] {
			return plumbing.ZeroHash, fmt.Errorf("%s: %w", f.id, paste.ErrExists)
		}
		names[f.id] = true
		entries = append(entries, object.TreeEntry{Name: f.id, Mode: f.mode, Hash: f.hash})
	}
	if !split && len(entries) > leafMax {
		// The leaf splits: its pastes that have a character past depth
		// move down, into the directories of that character.
		kept := entries[:0]
		for _, e := range entries {
			if e.Mode.IsFile() && len(e.Name) > depth && paste.ValidID(e.Name) {
				c := e.Name[depth : depth+1]
				down[c] = append(down[c], pasteFile{id: e.Name, hash: e.Hash, mode: e.Mode})
				continue
			}
			kept = append(kept, e)
		}
		entries = kept
	}

	chars := make([]string, 0, len(down))
	for c := range down {
		chars = append(chars, c)
	}
	sort.Strings(chars) // deterministic trees
	at := make(map[string]int, len(entries))
	for i, e := range entries {
		at[e.Name] = i
	}
	for _, c := range chars {
		sub := plumbing.ZeroHash
		i, ok := at[c]
		if ok {
			if entries[i].Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s: %w", c, errBlocked)
			}
			sub = entries[i].Hash
		}
		h, err := r.insertPastes(sub, depth+1, down[c])
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s/%w", c, err)
		}
		if ok {
			entries[i].Hash = h
		} else {
			entries = append(entries, object.TreeEntry{Name: c, Mode: filemode.Dir, Hash: h})
		}
	}

	return r.putTree(base, entries)
}

// hasCharDir reports whether entries hold a one-character directory: the
// tree has split (or is above minDepth), and new pastes go further down.
func hasCharDir(entries []object.TreeEntry) bool {
	for _, e := range entries {
		if len(e.Name) == 1 && e.Mode == filemode.Dir {
			return true
		}
	}
	return false
}
