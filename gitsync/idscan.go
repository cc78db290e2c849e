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
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
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
	walked := 0
	for len(trees) > 0 && err == nil {
		if ctx.Err() != nil {
			err = ctx.Err()
			break
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
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
	}
	s.mu.Lock()
	s.repo.EndIDs(scan, err == nil)
	s.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("make the filter of ids again", "err", err)
		}
		return
	}
	s.log.Info("made the filter of ids again", "trees", walked, "took", time.Since(t0).String())
}
