package repo

import (
	"errors"
	"path"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Where a purge starts: the first commit of the line that holds removed
// content, found from a past purge's tip (see Purge).

// firstRemoved bisects line[:hi+1] for the first commit that holds one of
// files, which line[hi] (clean) holds: every commit from there on holds
// one (a paste stays at its id until its tombstone replaces it), none
// before.
type firstRemoved struct {
	r      *Repo
	line   []plumbing.Hash
	files  []removedFile
	lo, hi int // the answer is in [lo, hi]

	root  plumbing.Hash // the tree of the commit probed; ZeroHash: none yet
	probe int
	file  int // the next of files to look for in it
}

// removedFile is a file that a past purge's tip holds and whose contents
// the tip no longer holds at its id.
type removedFile struct {
	path, id string
}

// beginSearch starts listing what clean (line[p.cleanAt]) holds that the
// tip lacks, in steps: then the bisection for the first commit that
// holds it (searchFrom).
func (p *Purge) beginSearch() error {
	cleanTree, err := p.r.treeOf(p.clean)
	if err != nil {
		return err
	}
	p.since, p.dead = make(map[plumbing.Hash]bool), make(map[plumbing.Hash]bool)
	p.diffs = []*diffSteps{
		p.r.newDiff(cleanTree, p.tipTree, func(_ string, e object.TreeEntry) error {
			p.since[e.Hash] = true
			return nil
		}),
		p.r.newDiff(p.tipTree, cleanTree, func(at string, e object.TreeEntry) error {
			if p.since[e.Hash] {
				return nil
			}
			live, err := p.liveAtTip(at, e.Hash)
			if err == nil && !live {
				p.dead[e.Hash] = true
				p.removed = append(p.removed, removedFile{path: at, id: path.Base(at)})
			}
			return err
		}),
	}
	return nil
}

// searchFrom starts the bisection for the first commit that holds one of
// p.removed; when there is none, only the commits after clean can hold
// removed content.
func (p *Purge) searchFrom() error {
	if len(p.removed) == 0 {
		return p.startAt(p.cleanAt + 1)
	}
	p.search = &firstRemoved{r: p.r, line: p.line, files: p.removed, hi: p.cleanAt}
	return nil
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

// diffSteps calls fn for the files of tree to that tree from lacks or
// holds with other contents, as walkChanges does, a pair of trees a step.
type diffSteps struct {
	r     *Repo
	pairs []diffPair
	fn    func(path string, e object.TreeEntry) error
}

type diffPair struct {
	from, to plumbing.Hash
	prefix   string
}

func (r *Repo) newDiff(from, to plumbing.Hash, fn func(path string, e object.TreeEntry) error) *diffSteps {
	d := &diffSteps{r: r, fn: fn}
	if from != to && !to.IsZero() {
		d.pairs = []diffPair{{from: from, to: to}}
	}
	return d
}

func (d *diffSteps) done() bool { return len(d.pairs) == 0 }

// step compares one pair of trees.
func (d *diffSteps) step() error {
	pair := d.pairs[len(d.pairs)-1]
	d.pairs = d.pairs[:len(d.pairs)-1]
	t, err := d.r.treeOnce(pair.to)
	if err != nil {
		return err
	}
	var old *object.Tree
	if !pair.from.IsZero() {
		if old, err = d.r.treeOnce(pair.from); err != nil {
			return err
		}
	}
	for _, e := range t.Entries {
		before := plumbing.ZeroHash
		if old != nil {
			if o, err := old.FindEntry(e.Name); err == nil && o.Mode == e.Mode {
				if o.Hash == e.Hash {
					continue
				}
				before = o.Hash
			}
		}
		if e.Mode == filemode.Dir {
			d.pairs = append(d.pairs, diffPair{from: before, to: e.Hash, prefix: pair.prefix + e.Name + "/"})
			continue
		}
		if err := d.fn(pair.prefix+e.Name, e); err != nil {
			return err
		}
	}
	return nil
}
