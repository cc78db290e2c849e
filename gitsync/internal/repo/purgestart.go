package repo

import (
	"errors"
	"path"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Where a purge starts: the first commit of the line that holds removed
// content, found from a past purge's tip (see Purge).

// firstRemoved bisects line[:at+1] for the first commit that holds one of
// files, which the commit at holds: every commit from there on holds one
// (a paste stays until its tombstone replaces it), none before.
type firstRemoved struct {
	r      *Repo
	line   []plumbing.Hash
	files  []removedFile
	lo, hi int // the answer is in [lo, hi]

	root  plumbing.Hash // the tree of the commit probed; ZeroHash: none yet
	probe int
	file  int // the next of files to look for in it
}

// removedFile is a file that a past purge's tip holds and the tip lacks,
// with content the tip holds nowhere.
type removedFile struct {
	path, id string
}

// newSearch lists what clean (line[p.cleanAt]) holds that the tip lacks
// and starts the bisection for the first commit that holds it; nil when
// there is none: only the commits after clean can hold removed content.
func (p *Purge) newSearch() (*firstRemoved, error) {
	cleanTree, err := p.r.treeOf(p.clean)
	if err != nil {
		return nil, err
	}
	p.since, p.dead = make(map[plumbing.Hash]bool), make(map[plumbing.Hash]bool)
	err = p.r.walkChanges(cleanTree, p.tipTree, "", func(_ string, e object.TreeEntry) error {
		if e.Mode.IsFile() {
			p.since[e.Hash] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var files []removedFile
	err = p.r.walkChanges(p.tipTree, cleanTree, "", func(at string, e object.TreeEntry) error {
		if !e.Mode.IsFile() || p.since[e.Hash] {
			return nil
		}
		live, err := p.liveAtTip(at, e.Hash)
		if err == nil && !live {
			p.dead[e.Hash] = true
			files = append(files, removedFile{path: at, id: path.Base(at)})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, p.startAt(p.cleanAt + 1)
	}
	return &firstRemoved{r: p.r, line: p.line, files: files, hi: p.cleanAt}, nil
}

// step does one lookup of the bisection, and reports whether it is done
// (the answer in lo).
func (s *firstRemoved) step() (bool, error) {
	if s.lo == s.hi {
		return true, nil
	}
	if s.root.IsZero() {
		s.probe = (s.lo + s.hi) / 2
		s.file = 0
		root, err := s.r.treeOf(s.line[s.probe])
		if err != nil {
			return false, err
		}
		if root.IsZero() {
			// An empty commit holds nothing.
			s.lo = s.probe + 1
			return s.lo == s.hi, nil
		}
		s.root = root
	}
	f := s.files[s.file]
	_, _, found, err := s.r.locatePath(s.root, f.id)
	if err == nil && !found {
		_, found, err = s.r.entryAt(s.root, f.path)
		if errors.Is(err, errBlocked) {
			found, err = false, nil
		}
	}
	if err != nil {
		return false, err
	}
	s.file++
	switch {
	case found:
		s.hi = s.probe
	case s.file == len(s.files):
		s.lo = s.probe + 1
	default:
		return false, nil
	}
	s.root = plumbing.ZeroHash
	return s.lo == s.hi, nil
}

// startAt makes the rewrite begin at line[i], the commits before it kept.
func (p *Purge) startAt(i int) error {
	p.next = i
	p.stats.Kept = i
	if i == 0 {
		return nil
	}
	c, err := p.r.commit(p.line[i-1])
	if err != nil {
		return err
	}
	p.parent, p.parentTree, p.oldTree = p.line[i-1], c.TreeHash, c.TreeHash
	return nil
}

// noteAdded adds to dead the contents of the files that tree to holds and
// from lacks (a commit after clean and its parent) which the tip lacks.
func (p *Purge) noteAdded(from, to plumbing.Hash) error {
	return p.r.walkChanges(from, to, "", func(at string, e object.TreeEntry) error {
		if !e.Mode.IsFile() || p.since[e.Hash] || p.dead[e.Hash] {
			return nil
		}
		live, err := p.liveAtTip(at, e.Hash)
		if err == nil && !live {
			p.dead[e.Hash] = true
		}
		return err
	})
}

// liveAtTip reports whether the tip holds contents h at path at, or as
// the paste named as at's file, wherever the layout put it.
func (p *Purge) liveAtTip(at string, h plumbing.Hash) (bool, error) {
	_, e, found, err := p.r.locatePath(p.tipTree, path.Base(at))
	if err != nil || found && e.Hash == h {
		return found, err
	}
	e, found, err = p.r.entryAt(p.tipTree, at)
	if errors.Is(err, errBlocked) {
		return false, nil
	}
	return found && e.Hash == h, err
}
