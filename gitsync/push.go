package gitsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
	"github.com/pasteur-dev/pasteur/gitsync/internal/transport"
)

// push points the remote branch at tip, sending the objects it lacks. It
// returns an error wrapping errRejected when that would not be a
// fast-forward (the remote holds commits that tip lacks, or its branch
// moved during the push), one wrapping errRefused when the remote said no
// (a hook, branch protection, a quota), and on success
// points the remote-tracking ref at tip. The caller holds the writer lock.
func (s *Store) push(ctx context.Context, tip plumbing.Hash) error {
	t0 := time.Now()
	mark := s.pushMark()
	p, err := s.remote.Push(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	tAdv := time.Since(t0)
	old, err := p.Tip(s.branch)
	if err != nil {
		return err
	}
	if old != tip {
		var others []plumbing.Hash
		if old.IsZero() {
			if others, err = p.Refs(); err != nil {
				return err
			}
		}
		t1 := time.Now()
		s.mu.Lock()
		pack, err := s.repo.PackFor(tip, old, others, p.RefDeltas(), p.Thin())
		s.mu.Unlock()
		if errors.Is(err, repo.ErrNotAncestor) {
			return fmt.Errorf("%w: %w", errRejected, err)
		}
		if err != nil {
			return err
		}
		tPack := time.Since(t1)
		if err := p.Send(ctx, s.branch, old, tip, pack); err != nil {
			return s.raceOrRefusal(ctx, old, err)
		}
		s.log.Debug("pushed", "remote", s.remote.Name(), "tip", tip.String(), "bytes", len(pack),
			"advertised", tAdv.String(), "pack", tPack.String(), "total", time.Since(t0).String())
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.repo.SetRef(s.tracking, tip); err != nil {
		return err
	}
	s.markPushed(mark)
	return nil
}

// errRejected: the remote branch holds commits that the pushed tip lacks
// (another writer pushed first).
var errRejected = transport.ErrRejected
