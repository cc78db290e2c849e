package gitsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/transport"
)

// errRefused: the remote refused the push and said why; its branch had
// not moved, so trying again at once would be refused again. It is backed
// off like an outage.
var errRefused = transport.ErrRefused

// raceOrRefusal tells what a push whose update the remote did not accept
// (err, from Send; the branch was at old) met: a lost race when the
// remote's branch has moved since (errRejected: fetch and replay), else a
// refusal (err itself, wrapping errRefused). Other errors are returned as
// they are.
func (s *Store) raceOrRefusal(ctx context.Context, old plumbing.Hash, err error) error {
	if !errors.Is(err, errRefused) {
		return err
	}
	p, perr := s.remote.Push(ctx)
	if perr != nil {
		return err
	}
	now, perr := p.Tip(s.branch)
	p.Close()
	if perr == nil && now != old {
		return fmt.Errorf("%w: %w", errRejected, err)
	}
	return err
}

// silent names a remote that did not answer before ctx's deadline, which
// the transports report as a closed connection.
func silent(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the remote did not answer in time: %w", err)
	}
	return err
}
