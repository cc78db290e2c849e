package gitsync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
)

// Migration is what Migrate did.
type Migration struct {
	Moved  int           // pastes moved from the root to ID[0]/ID[1]/ID
	Kept   int           // root pastes left where they are: their path was taken
	Commit plumbing.Hash // the commit that moved them; ZeroHash when none did
}

// ErrQueued: the repository holds pastes not yet pushed to its remote;
// Migrate refuses to rewrite the tree under them.
var ErrQueued = errors.New("the repository holds pastes not yet pushed to its remote")

// Migrate moves the pastes at the root of branch ("" is "master") of the
// bare repository in dir, as the original pasteur wrote them, to the
// layout pasteur writes, ID[0]/ID[1]/ID, in one commit: ids and contents
// do not change (the blobs are the same), only their paths. A root file
// is moved when its name is an id and it holds a stored paste; a paste
// whose new path is taken stays at the root, where it is still read.
//
// It must run while no Store uses dir. The commit is the local branch's
// new tip: a Store opened on dir with a remote pushes it, as it pushes
// queued pastes. It refuses a repository whose branch is ahead of its
// remote-tracking ref (ErrQueued), whose replay would not carry the
// move's deletions: push those first, by opening a Store once; and a
// partial repository (its first fetch took the remote's tip alone), until
// a Store completed it.
func Migrate(dir, branch string, now time.Time) (*Migration, error) {
	if branch == "" {
		branch = "master"
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return nil, fmt.Errorf("gitsync: %s is not a bare repository: %w", dir, err)
	}
	name := plumbing.NewBranchReferenceName(branch)
	r, err := repo.Open(dir, name)
	if err != nil {
		return nil, fmt.Errorf("gitsync: open %s: %w", dir, err)
	}
	defer r.Close()
	if r.Partial() {
		// It rewrites every paste's path: it needs them all.
		return nil, fmt.Errorf("gitsync: migrate %s: %w", dir, errPartial)
	}
	tip, err := r.Ref(name)
	if err != nil || tip.IsZero() {
		return &Migration{}, err
	}
	tracked, err := r.Ref(plumbing.NewRemoteReferenceName("origin", branch))
	if err != nil {
		return nil, err
	}
	if !tracked.IsZero() && tracked != tip {
		return nil, fmt.Errorf("gitsync: migrate %s: %w", dir, ErrQueued)
	}
	m := &Migration{}
	if m.Commit, m.Moved, m.Kept, err = r.MoveFlat(tip, now); err != nil || m.Commit.IsZero() {
		return m, err
	}
	if err := r.SetRef(name, m.Commit); err != nil {
		return nil, err
	}
	return m, nil
}
