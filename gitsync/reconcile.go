package gitsync

import (
	"context"
	"errors"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

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
// the same commit: the local branch fast-forwards when behind; the remote
// gets a push when behind; when both moved, the local commits are replayed
// onto the remote tip and pushed. A remote without the branch gets it from
// the first push. The caller holds the writer lock.
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
		if err = s.converge(ctx, tip); !errors.Is(err, errRejected) {
			return err
		}
		s.log.Info("the remote moved while reconciling; again", "remote", s.remote.Name())
	}
	return err
}

// converge brings the local branch and the remote branch, whose tip is
// remoteTip (ZeroHash: no branch), to the same commit.
func (s *Store) converge(ctx context.Context, remoteTip plumbing.Hash) error {
	s.mu.Lock()
	local, ahead, err := s.catchUp(remoteTip)
	s.mu.Unlock()
	if err != nil || !ahead {
		return err
	}
	return s.push(ctx, local)
}

// catchUp moves the local branch to include the remote tip (a fast-forward,
// or a replay of the local commits onto it) and returns it, and whether the
// remote lacks it. The caller holds s.mu.
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
	base, err := s.repo.MergeBase(local, remoteTip)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	switch base {
	case local: // behind: fast-forward
		return remoteTip, false, s.repo.SetRef(s.branch, remoteTip)
	case remoteTip: // ahead
		return local, true, nil
	}
	tip, err := s.repo.Replay(local, base, remoteTip, s.log)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	s.log.Info("replayed unpushed commits onto the remote's",
		"remote", s.remote.Name(), "old", local.String(), "new", tip.String())
	if err := s.repo.SetRef(s.branch, tip); err != nil {
		return plumbing.ZeroHash, false, err
	}
	return tip, tip != remoteTip, nil
}
