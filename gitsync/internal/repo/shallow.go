package repo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// A repository made by a partial first fetch (the remote's tip alone, its
// trees and blobs left out) is shallow and partial:
//   - shallow: the commits whose parents it lacks are listed in the file
//     "shallow", as git writes it, so that git and go-git read the
//     repository as shallow;
//   - partial: the file "pasteur-partial" says that objects the tip
//     reaches may be absent, to be fetched by hash (Missing); it goes once
//     the whole history is there.

// partialFile marks a partial repository. Its first line is the filter of
// the fetch that made it; each further line names an object of the
// shallow tip whose whole subtree has arrived since (Filled), the line
// "filled" says that they all have, and "depth N" that the history from
// the tip down to N commits has (the last such line counts).
const partialFile = "pasteur-partial"

// MissingError: an object that the repository lacks was needed; in a
// partial repository, the remote has it.
type MissingError struct{ Hash plumbing.Hash }

func (e *MissingError) Error() string {
	return fmt.Sprintf("object %s is not in the repository", e.Hash)
}

// missing turns go-git's "object not found" for h into a *MissingError.
func missing(h plumbing.Hash, err error) error {
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return &MissingError{Hash: h}
	}
	return err
}

// Missing returns the hash of the absent object that err (from a read of
// the repository) names, and whether it names one.
func Missing(err error) (plumbing.Hash, bool) {
	var m *MissingError
	if errors.As(err, &m) {
		return m.Hash, true
	}
	return plumbing.ZeroHash, false
}

// Shallow returns the commits whose parents the repository lacks.
func (r *Repo) Shallow() ([]plumbing.Hash, error) { return r.fs.Shallow() }

// SetShallow durably records the commits whose parents the repository
// lacks; none removes the record.
func (r *Repo) SetShallow(commits []plumbing.Hash) error {
	if len(commits) == 0 {
		if _, err := r.files.Stat("shallow"); err != nil {
			return nil
		}
		if err := r.files.Remove("shallow"); err != nil {
			return err
		}
		return r.syncTop()
	}
	if err := r.fs.SetShallow(commits); err != nil {
		return err
	}
	if r.disk != nil {
		if err := fsyncPath(filepath.Join(r.disk.dir, "shallow")); err != nil {
			return err
		}
	}
	return r.syncTop()
}

// Partial reports whether objects that the tip reaches may be absent.
func (r *Repo) Partial() bool {
	_, err := r.files.Stat(partialFile)
	return err == nil
}

// SetPartial durably marks the repository partial (filter: the filter of
// the fetch that made it so, tip: the commit it fetched), or, with "",
// complete.
func (r *Repo) SetPartial(filter string, tip plumbing.Hash) error {
	if filter == "" {
		if !r.Partial() {
			return nil
		}
		if err := r.files.Remove(partialFile); err != nil {
			return err
		}
		return r.syncTop()
	}
	f, err := r.files.Create(partialFile)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, filter+"\ntip "+tip.String()+"\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if r.disk != nil {
		if err := fsyncPath(filepath.Join(r.disk.dir, partialFile)); err != nil {
			return err
		}
	}
	return r.syncTop()
}

// syncTop fsyncs the repository's directory, whose entries changed.
func (r *Repo) syncTop() error {
	if r.disk == nil {
		return nil
	}
	return fsyncPath(r.disk.dir)
}

// PartialState is what the partial mark records of the completion.
type PartialState struct {
	Tip    plumbing.Hash          // the first fetch's tip
	Filled map[plumbing.Hash]bool // entries of its root tree whose subtrees arrived
	All    bool                   // all of them did
	Depth  int                    // commits of history from Tip that arrived
}

// PartialState returns what the partial mark records (SetPartial, SetFilled,
// SetDepth).
func (r *Repo) PartialState() (PartialState, error) {
	st := PartialState{Filled: make(map[plumbing.Hash]bool)}
	f, err := r.files.Open(partialFile)
	if err != nil {
		return st, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return st, err
	}
	for i, line := range strings.Split(string(b), "\n") {
		if i == 0 {
			continue // the filter
		}
		if h := plumbing.NewHash(line); !h.IsZero() && h.String() == line {
			st.Filled[h] = true
		}
		st.All = st.All || line == "filled"
		if t, ok := strings.CutPrefix(line, "tip "); ok {
			st.Tip = plumbing.NewHash(t)
		}
		if d, ok := strings.CutPrefix(line, "depth "); ok {
			if n, err := strconv.Atoi(d); err == nil && n > 0 {
				st.Depth = n
			}
		}
	}
	return st, nil
}

// SetFilled durably records that the whole subtrees of objects hs (trees
// of the shallow tip, or blobs) are in the repository; with none, that
// the whole tip is.
func (r *Repo) SetFilled(hs []plumbing.Hash) error {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.String() + "\n")
	}
	if len(hs) == 0 {
		b.WriteString("filled\n")
	}
	return r.appendPartial(b.String())
}

// SetDepth durably records that the history from the first fetch's tip
// down to depth commits is in the repository.
func (r *Repo) SetDepth(depth int) error {
	return r.appendPartial("depth " + strconv.Itoa(depth) + "\n")
}

// appendPartial appends lines to the partial mark, durably.
func (r *Repo) appendPartial(lines string) error {
	f, err := r.files.OpenFile(partialFile, os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, lines)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || r.disk == nil {
		return err
	}
	return fsyncPath(filepath.Join(r.disk.dir, partialFile))
}

// RootEntries returns the objects that the root tree of commit holds.
func (r *Repo) RootEntries(commit plumbing.Hash) ([]plumbing.Hash, error) {
	root, err := r.treeOf(commit)
	if err != nil || root.IsZero() {
		return nil, err
	}
	t, err := r.tree(root)
	if err != nil {
		return nil, err
	}
	var out []plumbing.Hash
	for _, e := range t.Entries {
		out = append(out, e.Hash)
	}
	return out, nil
}
