package repo

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pasteur-dev/pasteur/paste"
)

// Commit identity. Authors are the pasting users, "anonymous" for a paste
// without one (never the server's own name); the email is fixed, as users
// give no address.
const (
	defaultAuthor   = "pasteur"
	anonymousAuthor = "anonymous"
	authorEmail     = "pasteur@localhost"
)

// CommitPastes stores pastes in a new commit on parent (ZeroHash: a root
// commit) and returns it. Nothing is written when an id is taken (an error
// wrapping paste.ErrExists) or a paste cannot be encoded (paste.Marshal's
// error). One paste is one commit authored by its user; several (grouped
// writes) make one commit by pasteur.
func (r *Repo) CommitPastes(parent plumbing.Hash, pastes []*paste.Paste, now time.Time) (plumbing.Hash, error) {
	return r.commitPastes(parent, pastes, nil, now)
}

// Blob is a blob made without the repository (and its lock), to be
// committed by CommitBlobs.
type Blob struct{ o plumbing.EncodedObject }

// MakeBlob makes the blob of data, hashed; it is safe for concurrent use.
func MakeBlob(data []byte) Blob {
	o := &plumbing.MemoryObject{}
	o.SetType(plumbing.BlobObject)
	o.Write(data)
	o.Hash()
	return Blob{o}
}

// CommitBlobs is CommitPastes with the blobs of the pastes' documents
// (paste.Marshal's) made already.
func (r *Repo) CommitBlobs(parent plumbing.Hash, pastes []*paste.Paste, blobs []Blob, now time.Time) (plumbing.Hash, error) {
	return r.commitPastes(parent, pastes, blobs, now)
}

func (r *Repo) commitPastes(parent plumbing.Hash, pastes []*paste.Paste, made []Blob, now time.Time) (h plumbing.Hash, err error) {
	r.startRecord(parent)
	defer func() { r.endRecord(h) }()
	root, err := r.treeOf(parent)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	blobs := make([][]byte, len(pastes))
	paths := make([]string, len(pastes))
	seen := make(map[string]bool, len(pastes))
	for i, p := range pastes {
		if seen[p.ID] {
			return plumbing.ZeroHash, fmt.Errorf("gitsync: paste %s: %w", p.ID, paste.ErrExists)
		}
		seen[p.ID] = true
		if paths[i], err = r.placePaste(root, p.ID); err != nil {
			return plumbing.ZeroHash, err
		}
		if made == nil {
			if blobs[i], err = paste.Marshal(p); err != nil {
				return plumbing.ZeroHash, err
			}
		}
	}

	var fixed []file
	var adaptive []pasteFile
	for i, p := range pastes {
		var h plumbing.Hash
		if made != nil {
			h, err = r.st.SetEncodedObject(made[i].o)
		} else {
			h, err = r.putBlob(blobs[i])
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		r.recordBlob(h)
		if paths[i] == "" {
			adaptive = append(adaptive, pasteFile{id: p.ID, hash: h, mode: filemode.Regular})
		} else {
			fixed = append(fixed, file{path: paths[i], hash: h, mode: filemode.Regular})
		}
	}
	tree, err := r.addPlaced(root, fixed, adaptive)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if r.ids != nil && r.ids.covers(root) {
		// tree is root and these files (a split moves files, keeping
		// their names).
		for _, p := range pastes {
			r.ids.add(p.ID)
		}
		r.ids.moveTo(tree)
	}

	c := &object.Commit{TreeHash: tree}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	if len(pastes) == 1 {
		p := pastes[0]
		when := p.Created
		if when.IsZero() {
			when = now
		}
		c.Author = signature(p.User, when)
		c.Message = oneLine(p.Comment)
		if c.Message == "" {
			c.Message = "Paste " + p.ID
		}
	} else {
		ids := make([]string, len(pastes))
		for i, p := range pastes {
			ids[i] = p.ID
		}
		c.Author = object.Signature{Name: defaultAuthor, Email: authorEmail, When: now}
		c.Message = "Pastes " + strings.Join(ids, ", ")
	}
	c.Committer = object.Signature{Name: defaultAuthor, Email: authorEmail, When: c.Author.When}
	c.Message += "\n"
	return r.putCommit(c)
}

// signature is a commit identity for user at when: anonymousAuthor when
// the name is empty. Git headers cannot hold '<', '>' or line breaks: they
// are dropped from names.
func signature(user string, when time.Time) object.Signature {
	name := strings.Join(strings.Fields(strings.Map(func(c rune) rune {
		if c == '<' || c == '>' || c < ' ' || c == 0x7f {
			return ' '
		}
		return c
	}, user)), " ")
	if name == "" {
		name = anonymousAuthor
	}
	return object.Signature{Name: name, Email: authorEmail, When: when}
}

// oneLine is s with control characters turned to spaces and trimmed.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return ' '
		}
		return c
	}, s))
}

// firstParent returns the first parent of commit h, ZeroHash for a root
// commit or one whose parent is not in the repository.
func (r *Repo) firstParent(h plumbing.Hash) (plumbing.Hash, error) {
	c, err := r.commit(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if len(c.ParentHashes) == 0 || !r.Has(c.ParentHashes[0]) {
		return plumbing.ZeroHash, nil
	}
	return c.ParentHashes[0], nil
}

// MergeBase returns the nearest commit on the first-parent lines of both a
// and b, ZeroHash when they share none. It walks both lines in turn, so its
// cost is the distance to the answer, not the length of the history: a
// is an ancestor of b exactly when MergeBase(a, b) == a.
func (r *Repo) MergeBase(a, b plumbing.Hash) (plumbing.Hash, error) {
	if a == b {
		return a, nil
	}
	seenA := map[plumbing.Hash]bool{a: true}
	seenB := map[plumbing.Hash]bool{b: true}
	var err error
	for !a.IsZero() || !b.IsZero() {
		if !a.IsZero() {
			if a, err = r.firstParent(a); err != nil {
				return plumbing.ZeroHash, err
			}
			if seenB[a] && !a.IsZero() {
				return a, nil
			}
			seenA[a] = true
		}
		if !b.IsZero() {
			if b, err = r.firstParent(b); err != nil {
				return plumbing.ZeroHash, err
			}
			if seenA[b] && !b.IsZero() {
				return b, nil
			}
			seenB[b] = true
		}
	}
	return plumbing.ZeroHash, nil
}

// commitsSince returns the commits on the first-parent line from tip back to
// base (excluded; ZeroHash: to the root), oldest first.
func (r *Repo) commitsSince(tip, base plumbing.Hash) ([]*object.Commit, error) {
	var line []*object.Commit
	for h := tip; !h.IsZero() && h != base; {
		c, err := r.commit(h)
		if err != nil {
			return nil, err
		}
		line = append(line, c)
		if h, err = r.firstParent(h); err != nil {
			return nil, err
		}
	}
	slices.Reverse(line)
	return line, nil
}

// Replay re-applies onto commit onto the files that the commits from base
// (excluded) to tip add or change, oldest first, keeping their authors and
// messages, and returns the new tip. A change applies when onto holds at
// its path what the commit's parent held there: nothing, for a new paste;
// the paste, for its tombstone. Otherwise it is dropped and logged: a new
// paste whose path onto holds with other contents belongs to a commit that
// was never pushed, so never acknowledged (Create acknowledges a paste only
// once pushed); a tombstone for a paste that onto no longer holds as it was
// (removed there too) has nothing left to remove. Deletions are not
// replayed (pasteur never deletes a file), and commits left empty are
// dropped.
func (r *Repo) Replay(tip, base, onto plumbing.Hash, log *slog.Logger) (plumbing.Hash, error) {
	line, err := r.commitsSince(tip, base)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	for _, c := range line {
		parentTree := plumbing.ZeroHash
		if len(c.ParentHashes) > 0 && r.Has(c.ParentHashes[0]) {
			if parentTree, err = r.treeOf(c.ParentHashes[0]); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		ontoTree, err := r.treeOf(onto)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		var fixed []file
		var adaptive []pasteFile
		err = r.walkChanges(parentTree, c.TreeHash, "", func(p string, e object.TreeEntry) error {
			if e.Mode == filemode.Dir {
				return nil
			}
			place, err := r.replayPlace(parentTree, ontoTree, p, e, c.Hash, log)
			switch {
			case err != nil || place == nil:
				return err
			case place.path == "":
				adaptive = append(adaptive, pasteFile{id: path.Base(p), hash: e.Hash, mode: e.Mode})
			default:
				fixed = append(fixed, *place)
			}
			return nil
		})
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if len(fixed)+len(adaptive) == 0 {
			continue
		}
		tree, err := r.addPlaced(ontoTree, fixed, adaptive)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		n := &object.Commit{
			Author:       c.Author,
			Committer:    c.Committer,
			Message:      c.Message,
			TreeHash:     tree,
			ParentHashes: []plumbing.Hash{onto},
		}
		if onto.IsZero() {
			n.ParentHashes = nil
		}
		if onto, err = r.putCommit(n); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	return onto, nil
}

// replayPlace returns where the file e, at p in a commit being replayed
// onto tree onto, whose parent's tree is parent, goes: nil when nothing is
// to be written (onto has it already, or the change is dropped and
// logged), a file whose path is "" for a new paste of the adaptive layout.
// A change applies when onto holds what the parent held: nothing, for a
// new paste; the paste, for its tombstone. A new paste whose id onto holds
// with other contents belongs to a commit that was never pushed, so never
// acknowledged; a tombstone for a paste that onto no longer holds as it
// was has nothing left to remove. A paste is replayed by its id, not its
// path: onto's leaves may have split otherwise, and a commit that split a
// leaf moved pastes without changing them.
func (r *Repo) replayPlace(parent, onto plumbing.Hash, p string, e object.TreeEntry, commit plumbing.Hash, log *slog.Logger) (*file, error) {
	id := path.Base(p)
	var have, before object.TreeEntry
	var haveAt string
	var ok, wasOK bool
	var err error
	if isPastePath(p, id) {
		if haveAt, have, ok, err = r.locatePath(onto, id); err != nil {
			return nil, err
		}
		if _, before, wasOK, err = r.locatePath(parent, id); err != nil {
			return nil, err
		}
	} else {
		haveAt = p
		if have, ok, err = r.entryAt(onto, p); err != nil && !errors.Is(err, errBlocked) {
			return nil, err
		}
		ok = ok && err == nil
		if before, wasOK, err = r.entryAt(parent, p); err != nil && !errors.Is(err, errBlocked) {
			return nil, err
		}
		wasOK = wasOK && err == nil
	}
	switch {
	case ok && have.Hash == e.Hash:
		return nil, nil // onto has it already
	case wasOK && before.Hash == e.Hash && before.Mode == e.Mode:
		return nil, nil // moved by a split, not changed
	case !ok && !wasOK:
		if !isPastePath(p, id) {
			return &file{path: p, hash: e.Hash, mode: e.Mode}, nil
		}
		place, err := r.placePaste(onto, id)
		if err != nil {
			log.Warn("dropping an unpushed file that the remote holds differently",
				"path", p, "commit", commit.String())
			return nil, nil
		}
		return &file{path: place, hash: e.Hash, mode: e.Mode}, nil
	case ok && wasOK && have.Hash == before.Hash && have.Mode == before.Mode:
		return &file{path: haveAt, hash: e.Hash, mode: e.Mode}, nil
	case !wasOK:
		log.Warn("dropping an unpushed file that the remote holds differently",
			"path", p, "commit", commit.String())
	default:
		log.Info("dropping an unpushed change to a file the remote changed or removed",
			"path", p, "commit", commit.String())
	}
	return nil, nil
}

// addPlaced stores the tree made of tree root with files written at their
// paths (a file may replace one) and pastes added where the adaptive
// layout puts them.
func (r *Repo) addPlaced(root plumbing.Hash, files []file, pastes []pasteFile) (plumbing.Hash, error) {
	var err error
	if len(files) > 0 {
		// setFiles: a tombstone replaces its paste.
		if root, err = r.setFiles(root, files); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	if len(pastes) > 0 {
		if root, err = r.insertPastes(root, 0, pastes); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	return root, nil
}
