package gitsync

import (
	"context"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
)

// rescanIDs makes the filter of ids again once it was dropped
// (repo.IDsLost: a fetch that moved the tip past what the filter may
// follow, or through a tree missing): until then every id check reads its
// leaf. It walks the trees of the branch's tip as scanExpiry does, one
// tree under s.mu at a time, without reading the pastes. A scan begun
// since (scanExpiry after a completion) overtakes it: this one installs
// nothing, that one does.
func (s *Store) rescanIDs(ctx context.Context) {
	if s.partial.Load() {
		// Trees are missing: the scan once the repository is complete
		// makes the filter.
		return
	}
	t0 := time.Now()
	walked, ok, err := s.walkTip(ctx, func([]repo.Entry) bool { return true })
	if !ok {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("make the filter of ids again", "err", err)
		}
		return
	}
	s.log.Info("made the filter of ids again", "trees", walked, "took", time.Since(t0).String())
}

// walkTip walks the trees of the branch's tip, one under s.mu at a time
// so that reads and writes get the lock in between (a million pastes are
// some 48,000 trees), and hands each tree's entries to visit outside the
// lock (false stops the walk). Entries makes the filter of the ids there
// on the way (repo.StartIDs); it is installed if the walk ends whole. ok
// is false when the store closed, visit stopped the walk, or err.
func (s *Store) walkTip(ctx context.Context, visit func([]repo.Entry) bool) (walked int, ok bool, err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, false, nil
	}
	var trees []plumbing.Hash
	root := plumbing.ZeroHash
	tip, err := s.repo.Ref(s.branch)
	if err == nil {
		if root, err = s.repo.Root(tip); !root.IsZero() {
			trees = append(trees, root)
		}
	}
	scan := s.repo.StartIDs(root)
	s.mu.Unlock()
	for len(trees) > 0 && err == nil {
		if err = ctx.Err(); err != nil {
			break
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return walked, false, nil
		}
		var entries []repo.Entry
		entries, err = s.repo.Entries(trees[len(trees)-1])
		s.mu.Unlock()
		trees = trees[:len(trees)-1]
		walked++
		for _, e := range entries {
			if e.ID == "" {
				trees = append(trees, e.Hash)
			}
		}
		if err == nil && !visit(entries) {
			return walked, false, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.repo.EndIDs(scan, err == nil)
	}
	return walked, err == nil, err
}
