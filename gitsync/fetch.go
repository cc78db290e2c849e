package gitsync

import (
	"context"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
	"github.com/pasteur-dev/pasteur/gitsync/internal/transport"
)

// fetch brings the commits of the remote branch into the repository and
// returns its tip. It returns an error wrapping transport.ErrNoBranch when
// the remote has no such branch. The local branch and the remote-tracking
// ref are left alone: converge moves them. The caller holds the writer
// lock.
//
// The first fetch into an empty repository is a partial one when the
// remote allows it (partial.go): the tip commit alone. Otherwise it
// fetches the whole history, for as long as the remote keeps sending
// (progress.go).
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
		if h, err := s.repo.Ref(name); err == nil && !h.IsZero() && s.repo.Has(h) {
			haves = append(haves, h)
		}
	}
	shallows, err := s.repo.Shallow()
	s.mu.Unlock()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read the shallow commits: %w", err)
	}
	if have {
		return tip, nil
	}

	opts := transport.PackOptions{Shallows: shallows}
	partial := len(haves) == 0 && f.Supports(partialFirst)
	if partial {
		opts = partialFirst
	}
	pctx := ctx
	if len(haves) == 0 && !partial {
		// The whole history: as long as it takes while it moves.
		var stop func()
		pctx, opts.Progress, stop = progressContext(ctx, stallTimeout, s.log, "first fetch of the whole history")
		defer stop()
		s.log.Info("fetching the whole history of the remote (it offers no shallow partial fetch)", "remote", s.remote.Name())
	}
	// The pack is received before the repository is locked, so that
	// readers do not wait on the network.
	pack, shallow, err := f.Pack(pctx, []plumbing.Hash{tip}, haves, opts)
	if err != nil {
		return plumbing.ZeroHash, stalled(pctx, err)
	}
	in, err := s.receive(pack)
	if err != nil {
		return plumbing.ZeroHash, stalled(pctx, err)
	}
	if !in.Contains(tip) {
		// Every try would fetch it again: it is refused, and the
		// remote backed off.
		in.Discard()
		return plumbing.ZeroHash, fmt.Errorf("%w: it lacks the advertised tip %s", repo.ErrRefusedPack, tip)
	}
	s.mu.Lock()
	err = s.repo.Add(in)
	if err == nil && partial {
		err = s.markPartial(tip, shallow)
	}
	ok := s.repo.Has(tip)
	s.mu.Unlock()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store pack: %w", err)
	}
	if !ok {
		return plumbing.ZeroHash, fmt.Errorf("fetched pack lacks the tip %s", tip)
	}
	s.log.Debug("fetched", "remote", s.remote.Name(), "tip", tip.String(), "bytes", in.Size(), "partial", partial)
	return tip, nil
}

// receive reads and indexes pack, and closes it.
func (s *Store) receive(pack io.ReadCloser) (*repo.Received, error) {
	defer pack.Close()
	return s.repo.Receive(pack)
}
