package repo

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Purge rewrites a branch so that no commit holds content its tip no
// longer has: a removed paste's text, kept in the history by every commit
// from the one that added it to the one that replaced it by its
// tombstone. In the rewritten history a commit keeps a file only when the
// tip holds the same contents (at any path: files a migration moved are
// kept; pastes never change but to be removed, so nothing else is lost);
// commits left empty by it are dropped; the others keep their authors,
// dates and messages. Commits before the first
// one that held removed content keep their hashes. The tip's tree is
// unchanged.
//
// A purge reads the trees of the commits it rewrites, so its cost is that
// of the history from the first commit that held removed content on. To
// find that commit without reading the older ones, it is told the tip of
// a past purge ("clean"): every commit up to it holds only what its tree
// holds, so what they hold that the new tip lacks are the files of its
// tree that the new tip lacks (a diff), and the first commit that holds
// one of those is found by bisecting the line up to it (a paste, once
// added, stays at its id until its tombstone replaces it, and a purge
// keeps tombstones). What the commits after clean add and the tip lacks
// is found as they are rewritten, from their diffs, so the tip's files
// are not listed: the purge's memory is that of the changes, not of the
// pastes. Should that take a file out of the tip (its text was also a
// removed paste's), the purge starts over as without clean. Without it
// on the line (a first purge, or a history rewritten elsewhere since),
// every commit is read, and the tip's files listed.
//
// The work is done in steps (Step), so that the owner of the repository
// can let reads and writes in between: the repository is not safe for
// concurrent use, and a history of 100,000 commits takes a while. The new
// objects go to a pack of their own as they are made, in a temporary file
// (packout.go), apart from the repository until the owner adds it
// (Finish, then Add) or drops it (Discard).
type Purge struct {
	r       *Repo
	tip     plumbing.Hash
	tipTree plumbing.Hash
	clean   plumbing.Hash // a past purge's tip; ZeroHash: none

	line    []plumbing.Hash // the first-parent line, tip first until collected
	walk    plumbing.Hash   // the next commit to collect; ZeroHash when done
	cleanAt int             // clean's index on line; -1: not on it
	reverse bool            // line is oldest first
	diffs   []*diffSteps    // what clean holds that the tip lacks, being listed into removed
	removed []removedFile
	search  *firstRemoved // the bisection for the first commit to rewrite; nil when done
	next    int           // the next commit of line to rewrite

	parent     plumbing.Hash // the rewritten history's tip so far
	parentTree plumbing.Hash
	oldTree    plumbing.Hash // the tree of the last commit read, as it was
	changed    bool          // a commit was rewritten: the rest follow

	// Which files a commit keeps. Without clean on the line: those whose
	// contents are in live, every file of the tip (listed a tree at a
	// time from unread). From clean: those whose contents are not in
	// dead, the files clean holds and the tip lacks, and those that the
	// commits after clean add and the tip lacks; since is what the tip
	// holds and clean lacks.
	live, dead, since map[plumbing.Hash]bool
	unread            []plumbing.Hash
	reads             int // trees the rewrite read
	// trees maps a tree to the same, filtered: a commit reads only the
	// trees it changed. It is emptied past maxPurgeMemo entries, so that
	// it does not grow with the history; the next commit then reads its
	// whole tree once more.
	trees   map[plumbing.Hash]plumbing.Hash
	maxMemo int      // maxPurgeMemo; tests make it small
	pack    *packOut // the objects the rewrite made; nil until the first
	stats   PurgeStats
}

// maxPurgeMemo bounds the purge's memo of filtered trees: ~20 MB, some ten
// times the trees of a million pastes' tip.
const maxPurgeMemo = 1 << 18

// PurgeStats counts what a purge did.
type PurgeStats struct {
	Commits   int // on the line
	Rewritten int // given new hashes
	Dropped   int // left empty, dropped
	Trees     int // new trees written
	Kept      int // before the first commit that held removed content: kept, unread
}

// NewPurge prepares the purge of the line that ends at tip. clean is the
// tip of a past purge (Tip), or ZeroHash: see Purge.
func (r *Repo) NewPurge(tip, clean plumbing.Hash) (*Purge, error) {
	tree, err := r.treeOf(tip)
	if err != nil {
		return nil, err
	}
	return &Purge{r: r, tip: tip, tipTree: tree, clean: clean, walk: tip, cleanAt: -1,
		trees: make(map[plumbing.Hash]plumbing.Hash), maxMemo: maxPurgeMemo}, nil
}

// Done reports whether the rewrite is complete.
func (p *Purge) Done() bool {
	return p.reverse && len(p.unread) == 0 && len(p.diffs) == 0 && p.search == nil && p.next == len(p.line)
}

// Step does about n units of work, a unit being an object read (a tree
// or a commit; a commit's rewrite, once begun, is finished): collecting
// the line; then listing the tip's files, or finding the first commit
// that holds content removed since clean; then rewriting from there.
func (p *Purge) Step(n int) error {
	for ; n > 0 && !p.walk.IsZero(); n-- {
		if p.walk == p.clean {
			p.cleanAt = len(p.line)
		}
		p.line = append(p.line, p.walk)
		parent, err := p.r.firstParent(p.walk)
		if err != nil {
			return err
		}
		p.walk = parent
	}
	if !p.walk.IsZero() {
		return nil
	}
	if !p.reverse {
		for i, j := 0, len(p.line)-1; i < j; i, j = i+1, j-1 {
			p.line[i], p.line[j] = p.line[j], p.line[i]
		}
		p.reverse = true
		p.stats.Commits = len(p.line)
		if p.cleanAt < 0 {
			p.listTip()
		} else {
			p.cleanAt = len(p.line) - 1 - p.cleanAt
			if err := p.beginSearch(); err != nil {
				return err
			}
		}
	}
	for n > 0 && len(p.diffs) > 0 {
		if d := p.diffs[0]; !d.done() {
			if err := d.step(); err != nil {
				return err
			}
			n--
			continue
		}
		if p.diffs = p.diffs[1:]; len(p.diffs) == 0 {
			if err := p.searchFrom(); err != nil {
				return err
			}
		}
	}
	for ; n > 0 && len(p.unread) > 0; n-- {
		t, err := p.r.treeOnce(p.unread[len(p.unread)-1])
		if err != nil {
			return err
		}
		p.unread = p.unread[:len(p.unread)-1]
		for _, e := range t.Entries {
			if e.Mode == filemode.Dir {
				p.unread = append(p.unread, e.Hash)
			} else {
				p.live[e.Hash] = true
			}
		}
	}
	for ; n > 0 && p.search != nil; n-- {
		done, err := p.search.step()
		if err != nil {
			return err
		}
		if done {
			if err := p.startAt(p.search.lo); err != nil {
				return err
			}
			p.search = nil
		}
	}
	for n > 0 && len(p.unread) == 0 && len(p.diffs) == 0 && p.search == nil && p.next < len(p.line) {
		read := p.reads
		if err := p.rewrite(p.line[p.next]); err != nil {
			return err
		}
		p.next++
		n -= 1 + p.reads - read
		if p.next == len(p.line) && p.parentTree != p.tipTree {
			// Purged from clean, a file of the tip went: its contents
			// were also those of a removed paste (two pastes of the
			// same text). Read everything instead.
			p.restart()
		}
	}
	return nil
}

// listTip makes the purge keep the files whose contents the tip holds,
// listed a tree at a time by Step.
func (p *Purge) listTip() {
	p.live = make(map[plumbing.Hash]bool)
	if !p.tipTree.IsZero() {
		p.unread = []plumbing.Hash{p.tipTree}
	}
}

// restart begins the rewrite again from the first commit, keeping the
// files whose contents the tip holds. The objects written so far stay in
// the pack.
func (p *Purge) restart() {
	p.cleanAt, p.dead, p.since, p.removed = -1, nil, nil, nil
	p.listTip()
	clear(p.trees)
	p.next, p.parent, p.parentTree, p.oldTree, p.changed = 0, plumbing.ZeroHash, plumbing.ZeroHash, plumbing.ZeroHash, false
	p.stats = PurgeStats{Commits: len(p.line)}
}

// keeps reports whether the rewritten history keeps a file of contents h.
func (p *Purge) keeps(h plumbing.Hash) bool {
	if p.dead != nil {
		return !p.dead[h]
	}
	return p.live[h]
}

// Tip returns the rewritten history's tip (the old tip when nothing held
// removed content), once Done.
func (p *Purge) Tip() plumbing.Hash { return p.parent }

// Objects returns how many objects the rewrite made: what a remote that
// has the old history lacks of the new one.
func (p *Purge) Objects() int {
	if p.pack == nil {
		return 0
	}
	return len(p.pack.objs)
}

// Stats returns what the purge did.
func (p *Purge) Stats() PurgeStats { return p.stats }

// rewrite adds commit h to the rewritten history.
func (p *Purge) rewrite(h plumbing.Hash) error {
	c, err := p.r.commit(h)
	if err != nil {
		return err
	}
	if len(p.trees) > p.maxMemo {
		clear(p.trees)
	}
	if p.dead != nil && p.next > p.cleanAt {
		if err := p.noteAdded(p.oldTree, c.TreeHash); err != nil {
			return err
		}
	}
	wasEmpty := p.oldTree == c.TreeHash && len(c.ParentHashes) > 0
	p.oldTree = c.TreeHash
	tree, err := p.filter(c.TreeHash)
	if err != nil {
		return err
	}
	if tree.IsZero() {
		if tree, err = hashOf((&object.Tree{}).Encode); err != nil {
			return err
		}
	}
	if !p.changed && tree == c.TreeHash {
		p.parent, p.parentTree = h, tree
		return nil
	}
	p.changed = true
	if tree == p.parentTree && !p.parent.IsZero() && !wasEmpty {
		p.stats.Dropped++
		return nil
	}
	n := &object.Commit{Author: c.Author, Committer: c.Committer, Message: c.Message, TreeHash: tree}
	if !p.parent.IsZero() {
		n.ParentHashes = []plumbing.Hash{p.parent}
	}
	nh, err := p.put(n.Encode)
	if err != nil {
		return err
	}
	p.stats.Rewritten++
	p.parent, p.parentTree = nh, tree
	return nil
}

// filter returns tree old without the files whose contents the tip does
// not hold (at any path: a migration that moved files loses nothing): old
// itself when it has none, ZeroHash when nothing is left. Subtrees are
// memoized by hash, so a commit costs the trees it changed.
func (p *Purge) filter(old plumbing.Hash) (plumbing.Hash, error) {
	if h, ok := p.trees[old]; ok {
		return h, nil
	}
	ot, err := p.r.treeOnce(old)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	p.reads++
	entries := make([]object.TreeEntry, 0, len(ot.Entries))
	changed := false
	for _, e := range ot.Entries {
		if e.Mode != filemode.Dir {
			if p.keeps(e.Hash) {
				entries = append(entries, e)
			} else {
				changed = true
			}
			continue
		}
		nh, err := p.filter(e.Hash)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if nh != e.Hash {
			changed = true
		}
		if !nh.IsZero() {
			entries = append(entries, object.TreeEntry{Name: e.Name, Mode: e.Mode, Hash: nh})
		}
	}
	result := old
	switch {
	case !changed:
	case len(entries) == 0:
		result = plumbing.ZeroHash
	default:
		t := &object.Tree{Entries: entries}
		if result, err = p.put(t.Encode); err != nil {
			return plumbing.ZeroHash, err
		}
		p.stats.Trees++
	}
	p.trees[old] = result
	return result, nil
}

// put writes an object made by encode to the purge's pack. The rewrite
// never reads back what it made, so the objects stay out of the
// repository until the owner adds the pack (Finish, then Add): the
// commits made meanwhile flush only their own objects.
func (p *Purge) put(encode func(plumbing.EncodedObject) error) (plumbing.Hash, error) {
	o := &plumbing.MemoryObject{}
	if err := encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	if p.pack == nil {
		pack, err := newPackOut(p.packDir())
		if err != nil {
			return plumbing.ZeroHash, err
		}
		p.pack = pack
	}
	if err := p.pack.add(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return o.Hash(), nil
}

// hashOf returns the hash of the object made by encode.
func hashOf(encode func(plumbing.EncodedObject) error) (plumbing.Hash, error) {
	o := &plumbing.MemoryObject{}
	if err := encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return o.Hash(), nil
}

// Finish completes the pack of the objects the rewrite made (Written; it
// may have made none, having only dropped commits), once Done, and
// returns it, indexed, for the owner to add (Add) and to send
// (Received.Open). It reads neither the repository nor its state, and
// needs no lock. The pack is the caller's from then on: Add or Discard it.
func (p *Purge) Finish() (*Received, error) {
	if p.pack == nil {
		pack, err := newPackOut(p.packDir())
		if err != nil {
			return nil, err
		}
		p.pack = pack
	}
	pack := p.pack
	p.pack = nil
	return pack.finish()
}

// packDir is where the purge's pack is written: objects/, or "" for a
// repository in memory.
func (p *Purge) packDir() string {
	if p.r.disk == nil {
		return ""
	}
	return filepath.Join(p.r.disk.dir, "objects")
}

// Discard removes the purge's pack, unless Finish handed it over. It may
// be called more than once.
func (p *Purge) Discard() {
	if p.pack != nil {
		p.pack.discard()
		p.pack = nil
	}
}

// PackOf encodes the objects hashes as a packfile. With refDeltas, the
// remote does not take offset deltas.
func (r *Repo) PackOf(hashes []plumbing.Hash, refDeltas bool) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := packfile.NewEncoder(&buf, r.st, refDeltas).Encode(hashes, 0); err != nil {
		return nil, fmt.Errorf("encode pack: %w", err)
	}
	return buf.Bytes(), nil
}

// ObjectsSince returns the objects that the commits from tip back to base
// (an ancestor of tip on its first-parent line, excluded) add.
func (r *Repo) ObjectsSince(tip, base plumbing.Hash) ([]plumbing.Hash, error) {
	if tip == base {
		return nil, nil
	}
	return r.objectsSince(tip, base)
}

// IsAncestor reports whether a is on the first-parent line of b.
func (r *Repo) IsAncestor(a, b plumbing.Hash) (bool, error) {
	mb, err := r.MergeBase(a, b)
	return mb == a, err
}

// Line returns the commits on the first-parent line from tip back to base
// (excluded), oldest first, or an error wrapping ErrNotAncestor when base
// is not on it.
func (r *Repo) Line(tip, base plumbing.Hash) ([]plumbing.Hash, error) {
	if tip == base {
		return nil, nil
	}
	ok, err := r.IsAncestor(base, tip)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w", base, ErrNotAncestor)
	}
	line, err := r.commitsSince(tip, base)
	if err != nil {
		return nil, err
	}
	out := make([]plumbing.Hash, len(line))
	for i, c := range line {
		out[i] = c.Hash
	}
	return out, nil
}
