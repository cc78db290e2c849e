package gitsync

import (
	"context"
	"errors"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

const (
	// maxAttempts bounds the fetch-and-retry rounds when another writer
	// keeps pushing first.
	maxAttempts = 10
	// minFetchInterval spaces the fetches that read misses trigger.
	minFetchInterval = time.Second
)

// sync fetches the remote branch and brings the local branch and it to the
// same commit: the local branch fast-forwards when behind; the remote gets
// a push when behind; when both moved, the local commits are replayed onto
// the remote tip and pushed. A remote without the branch gets it from the
// first push. The caller holds the writer lock.
func (s *Store) sync(ctx context.Context) error {
	s.lastFetch = time.Now()
	var err error
	for range maxAttempts {
		var tip plumbing.Hash
		tip, err = s.fetch(ctx)
		if errors.Is(err, errNoBranch) {
			s.log.Info("gitsync: the remote has no commit on the branch yet; the first paste will create it",
				"remote", s.remote.name, "branch", s.branch.Short())
			tip, err = plumbing.ZeroHash, nil
		}
		if err != nil {
			return err
		}
		if err = s.reconcile(ctx, tip); !errors.Is(err, errRejected) {
			return err
		}
		s.log.Info("gitsync: the remote moved during a sync; again", "remote", s.remote.name)
	}
	return err
}

// reconcile brings the local branch and the remote branch, whose tip is
// remoteTip (ZeroHash: no branch), to the same commit.
func (s *Store) reconcile(ctx context.Context, remoteTip plumbing.Hash) error {
	s.mu.Lock()
	local, ahead, err := s.merge(remoteTip)
	s.mu.Unlock()
	if err != nil || !ahead {
		return err
	}
	return s.push(ctx, local)
}

// merge moves the local branch to include the remote tip and returns it,
// and whether the remote lacks it. The caller holds s.mu.
func (s *Store) merge(remoteTip plumbing.Hash) (plumbing.Hash, bool, error) {
	local, err := s.repo.ref(s.branch)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	switch {
	case local == remoteTip:
		return local, false, nil
	case local.IsZero():
		return remoteTip, false, s.repo.setRef(s.branch, remoteTip)
	case remoteTip.IsZero():
		return local, true, nil
	}
	base, err := s.repo.mergeBase(local, remoteTip)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	switch base {
	case local: // behind: fast-forward
		return remoteTip, false, s.repo.setRef(s.branch, remoteTip)
	case remoteTip: // ahead
		return local, true, nil
	}
	tip, err := s.repo.replay(local, base, remoteTip, s.log)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	s.log.Info("gitsync: replayed unpushed commits onto the remote's",
		"remote", s.remote.name, "old", local.String(), "new", tip.String())
	if err := s.repo.setRef(s.branch, tip); err != nil {
		return plumbing.ZeroHash, false, err
	}
	return tip, tip != remoteTip, nil
}
