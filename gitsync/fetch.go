package gitsync

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
)

// fetch brings the commits of the remote branch into the repository and
// returns its tip. It returns an error wrapping transport.ErrNoBranch when
// the remote has no such branch. The local branch and the remote-tracking
// ref are left alone: converge moves them. The caller holds the writer
// lock.
func (s *Store) fetch(ctx context.Context) (plumbing.Hash, error) {
	f, err := s.remote.Fetch(ctx)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer f.Close()
	tip, err := f.Tip(s.branch)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if tip.IsZero() {
		return plumbing.ZeroHash, errNoBranch
	}

	s.mu.Lock()
	have := s.repo.Has(tip)
	var haves []plumbing.Hash
	for _, name := range []plumbing.ReferenceName{s.branch, s.tracking} {
		if h, err := s.repo.Ref(name); err == nil && !h.IsZero() {
			haves = append(haves, h)
		}
	}
	s.mu.Unlock()

	if !have {
		// The pack is received before the repository is locked, so that
		// readers do not wait on the network.
		pack, err := f.Pack(ctx, tip, haves)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		in, err := s.repo.Receive(pack)
		pack.Close()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if !in.Contains(tip) {
			// Every try would fetch it again: it is refused, and the
			// remote backed off.
			in.Discard()
			return plumbing.ZeroHash, fmt.Errorf("%w: it lacks the advertised tip %s", repo.ErrRefusedPack, tip)
		}
		s.mu.Lock()
		err = s.repo.Add(in)
		s.mu.Unlock()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("store pack: %w", err)
		}
		s.log.Debug("fetched", "remote", s.remote.Name(), "tip", tip.String(), "bytes", in.Size())
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.repo.Has(tip) {
		return plumbing.ZeroHash, fmt.Errorf("fetched pack lacks the tip %s", tip)
	}
	return tip, nil
}
