package repo

import (
	"errors"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
)

// An IDScan is a filter of ids being made, begun by StartIDs.
type IDScan struct{ f *idFilter }

// StartIDs begins the filter of the ids in tree root (idfilter.go): every
// tree that Entries reads from now on adds the names of its files. The
// caller then reads every tree of root through Entries, and calls EndIDs
// with the scan returned. A filter begun earlier and not ended is
// dropped: its EndIDs installs nothing (two scans overlapping, the first
// to end would install the second's, which lacks the names of the trees
// the first read before the second began).
func (r *Repo) StartIDs(root plumbing.Hash) IDScan {
	r.idsNext = newIDFilter(root)
	return IDScan{r.idsNext}
}

// EndIDs ends scan: with complete (every tree of its root was read
// through Entries since StartIDs returned it), its filter answers the id
// checks from now on; else, or when another scan began since, it is
// dropped, and the filter in use, if any, stays.
func (r *Repo) EndIDs(scan IDScan, complete bool) {
	if scan.f == nil || r.idsNext != scan.f {
		return
	}
	if complete {
		r.ids = scan.f
	}
	r.idsNext = nil
}

// IDFilter reports the names and bytes the filter of ids holds (0, 0:
// none yet).
func (r *Repo) IDFilter() (names, bytes int) {
	if r.ids == nil {
		return 0, 0
	}
	return r.ids.n, r.ids.bytes()
}

// HasIDFilter reports whether a filter of ids answers the id checks.
func (r *Repo) HasIDFilter() bool { return r.ids != nil }

// IDsLost receives when the filter of ids in use was dropped (a move
// past maxIDMove, or through a tree missing): until another scan
// (StartIDs, EndIDs) ends, every id check reads its leaf. One signal is
// kept; a repository without a filter sends none, so a scan that fails
// is not retried at once.
func (r *Repo) IDsLost() <-chan struct{} { return r.idsLost }

// DropIDs drops the filter of ids in use, as a move of it that fails
// does, and signals IDsLost. A scan under way (StartIDs) goes on: it
// reads the trees itself, and installs its filter when it ends.
func (r *Repo) DropIDs() {
	if r.ids == nil {
		return
	}
	r.ids = nil
	select {
	case r.idsLost <- struct{}{}:
	default:
	}
}

// surelyFree reports that a new paste named id goes into the adaptive
// layout of tree root, as placePaste would find reading its leaf: the
// filter of ids says no file of root has that name, and no file blocks
// the id's directories above minDepth (the root and the directories
// under it, which the cache keeps). False says nothing: placePaste walks.
func (r *Repo) surelyFree(root plumbing.Hash, id string) bool {
	if root.IsZero() || len(id) < minDepth || !paste.ValidID(id) || !r.idsCover(root) || r.ids.has(id) {
		return false
	}
	h := root
	for depth := range minDepth {
		t, err := r.tree(h)
		if err != nil {
			return false
		}
		d := findEntry(t, id[depth:depth+1])
		if d == nil {
			return true
		}
		if d.Mode != filemode.Dir {
			return false // blocked: placePaste chooses
		}
		h = d.Hash
	}
	return true
}

// maxIDMove bounds the entries a move of the filter of ids may add: more
// (the first fetch of a large history into an empty repository) would
// hold the repository for the walk of most of its trees, which the next
// expiry scan does anyway.
const maxIDMove = 1 << 16

// errLongMove: a move of the filter of ids past maxIDMove.
var errLongMove = errors.New("the filter of ids would move too far")

// idsCover reports whether the filter of ids holds the name of every file
// of tree root, moving it there from the tree it holds when it can: the
// names of root's entries that differ from that tree's are added. A move
// that fails (a tree missing, or past maxIDMove) drops the filter
// (DropIDs); the next complete walk makes another.
func (r *Repo) idsCover(root plumbing.Hash) bool {
	if r.ids == nil {
		return false
	}
	if r.ids.covers(root) {
		return true
	}
	ids, n := r.ids, 0
	err := r.walkChanges(ids.root, root, "", func(_ string, e object.TreeEntry) error {
		if n++; n > maxIDMove {
			return errLongMove
		}
		if e.Mode != filemode.Dir {
			ids.add(e.Name)
		}
		return nil
	})
	if err != nil {
		r.DropIDs()
		return false
	}
	ids.moveTo(root)
	return true
}
