package gitsync

import (
	"context"
	"errors"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
	"github.com/pasteur-dev/pasteur/gitsync/internal/transport"
)

// Words: to reconcile is to bring the local branch and the remote's to the
// same commit (fetch, then fast-forward, push, or replay and push); the
// repository flushes its batch of objects, and fsyncs files; the queue is
// the pastes committed locally that the remote lacks.

const (
	// maxAttempts bounds the fetch-and-retry rounds when another writer
	// keeps pushing first.
	maxAttempts = 10
	// defaultFetchInterval spaces the fetches that read misses trigger.
	defaultFetchInterval = time.Second
)

// errNoBranch: the remote has no commit on the branch.
var errNoBranch = transport.ErrNoBranch

// reconcile fetches the remote branch and brings the local branch and it to
// the same commit: the local branch fast-forwards when behind, or takes
// the remote's history when that was rewritten (a purge, a force-push);
// the remote gets a push when behind; when both moved, the local commits
// the remote never had are replayed onto the remote tip and pushed. A
// remote without the branch gets it from the first push. The caller holds
// the writer lock.
func (s *Store) reconcile(ctx context.Context) error {
	s.lastFetch = time.Now()
	var err error
	for range maxAttempts {
		var tip plumbing.Hash
		tip, err = s.fetch(ctx)
		if errors.Is(err, errNoBranch) {
			s.log.Info("the remote has no commit on the branch yet; the first paste will create it",
				"remote", s.remote.Name(), "branch", s.branch.Short())
			tip, err = plumbing.ZeroHash, nil
		}
		if err != nil {
			return err
		}
		err = s.converge(ctx, tip)
		if h, ok := repo.Missing(err); ok && s.partial.Load() {
			// A replay onto the remote's commits met a tree this
			// partial repository lacks.
			if err = s.fetchObjects(ctx, []plumbing.Hash{h}); err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, errRejected) {
			return err
		}
		s.log.Info("the remote moved while reconciling; again", "remote", s.remote.Name())
	}
	return err
}

// converge brings the local branch and the remote branch, whose tip is
// remoteTip (ZeroHash: no branch), to the same commit.
func (s *Store) converge(ctx context.Context, remoteTip plumbing.Hash) error {
	mark := s.pushMark()
	s.mu.Lock()
	local, ahead, err := s.catchUp(remoteTip)
	if err == nil && !remoteTip.IsZero() {
		// Only now: until the branch has taken the remote's commits, the
		// tracking ref tells which local commits the remote ever had.
		err = s.repo.SetRef(s.tracking, remoteTip)
	}
	s.mu.Unlock()
	s.flushRemoved()
	if err == nil && !ahead {
		s.markPushed(mark)
	}
	if err != nil || !ahead {
		return err
	}
	return s.push(ctx, local)
}

// catchUp moves the local branch to include the remote tip and returns it,
// and whether the remote lacks it. The local commits that the remote never
// had (those after the remote-tracking ref, the remote's tip when last
// seen) are kept: the branch fast-forwards when there are none, or when
// the remote has them already; else they are replayed onto the remote tip.
// Commits the remote had and no longer has (an operator removed them, or a
// purge rewrote the history) are dropped, never replayed: that is how a
// removal on the remote sticks. The caller holds s.mu.
func (s *Store) catchUp(remoteTip plumbing.Hash) (plumbing.Hash, bool, error) {
	local, err := s.repo.Ref(s.branch)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	switch {
	case local == remoteTip:
		return local, false, nil
	case local.IsZero():
		return remoteTip, false, s.repo.SetRef(s.branch, remoteTip)
	case remoteTip.IsZero():
		return local, true, nil
	}
	mb, err := s.repo.MergeBase(local, remoteTip)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	if mb == local { // behind: fast-forward
		s.noteMoved(local, remoteTip)
		return remoteTip, false, s.repo.SetRef(s.branch, remoteTip)
	}
	base, err := s.unpushedBase(local, mb)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	switch base {
	case remoteTip: // ahead
		return local, true, nil
	case local: // nothing unpushed, and the remote lost commits it had
		s.log.Warn("the remote's history was rewritten or cut; taking it as it is",
			"remote", s.remote.Name(), "old", local.String(), "new", remoteTip.String())
		s.noteMoved(local, remoteTip)
		return remoteTip, false, s.repo.SetRef(s.branch, remoteTip)
	}
	tip, err := s.repo.Replay(local, base, remoteTip, s.log)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	s.log.Info("replayed unpushed commits onto the remote's",
		"remote", s.remote.Name(), "old", local.String(), "new", tip.String())
	s.noteMoved(local, tip)
	if err := s.repo.SetRef(s.branch, tip); err != nil {
		return plumbing.ZeroHash, false, err
	}
	return tip, tip != remoteTip, nil
}

// unpushedBase returns the commit after which the local branch (at local)
// holds only commits the remote never had: the remote-tracking ref when it
// is on local's line, else mb, the nearest commit of local and the
// remote's tip (as before any fetch).
func (s *Store) unpushedBase(local, mb plumbing.Hash) (plumbing.Hash, error) {
	tracking, err := s.repo.Ref(s.tracking)
	if err != nil || tracking.IsZero() || !s.repo.Has(tracking) {
		return mb, err
	}
	tb, err := s.repo.MergeBase(tracking, local)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if tb != tracking {
		return mb, nil
	}
	return tracking, nil
}
