package gitsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A remote that refuses to rewrite the branch (git's
// receive.denyNonFastForwards, a hosted branch protection without force
// pushes) refuses every purge, after its rewrite and the upload of its
// history. The purges that follow such a refusal back off, so that a
// purge interval of an hour does not redo that work every hour; a purge
// that succeeds, or a new process, ends the pause.

// maxPurgeBackoff is the longest pause between purges that the remote
// refuses (or the purge interval, when longer).
const maxPurgeBackoff = 24 * time.Hour

// ErrRewriteRefused: the remote refused the purge's update of the branch
// to its rewritten history, because it takes no update that is not a
// fast-forward (a force push).
var ErrRewriteRefused = errors.New("gitsync: the remote refuses to rewrite the branch's history (a force push)")

// rewriteRefusal returns err, from a purge's push, wrapped with
// ErrRewriteRefused when the remote's reason says it refuses updates
// that are not fast-forwards; other errors as they are.
func rewriteRefusal(err error) error {
	if err == nil || !errors.Is(err, errRefused) || errors.Is(err, errRejected) || !refusesRewrites(err.Error()) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrRewriteRefused, err)
}

// refusesRewrites reports whether a remote's reason for refusing a push
// says that it refuses to rewrite history: git's "non-fast-forward"
// (receive.denyNonFastForwards), and the force pushes that the branch
// protections of hosted remotes (GitHub, GitLab, Gitea) forbid.
func refusesRewrites(reason string) bool {
	r := strings.NewReplacer("-", " ", "_", " ").Replace(strings.ToLower(reason))
	for _, say := range []string{"non fast forward", "force push", "rewrite history", "rewriting history"} {
		if strings.Contains(r, say) {
			return true
		}
	}
	return false
}

// purgeBackoff is the pause of the purges after refused rewrites. The
// purge loop owns it.
type purgeBackoff struct {
	interval time.Duration // between purges
	delay    time.Duration // the current pause; 0: none
	next     time.Time     // no purge before
}

// due reports whether a purge may run at now.
func (b *purgeBackoff) due(now time.Time) bool { return b.delay == 0 || !now.Before(b.next) }

// refused records a purge at now whose rewrite the remote refused, and
// reports whether it is the first since the last that succeeded.
func (b *purgeBackoff) refused(now time.Time) (first bool) {
	first = b.delay == 0
	b.delay = min(max(2*b.delay, 2*b.interval), max(maxPurgeBackoff, b.interval))
	b.next = now.Add(b.delay)
	return first
}

// succeeded records a purge that succeeded: the next is due at the
// interval.
func (b *purgeBackoff) succeeded() { b.delay = 0 }

// purgeTick is a tick of the purge loop at now: it purges when a paste
// was removed since the last purge and no refused rewrite pauses the
// purges, and reports whether it purged (or tried to).
func (s *Store) purgeTick(ctx context.Context, b *purgeBackoff, now time.Time) bool {
	if !s.removedSincePurge.Load() || !b.due(now) {
		return false
	}
	s.removedSincePurge.Store(false)
	_, err := s.Purge(ctx)
	if err != nil {
		s.removedSincePurge.Store(true)
	}
	switch {
	case err == nil:
		b.succeeded()
	case ctx.Err() != nil:
	case errors.Is(err, ErrRewriteRefused):
		if b.refused(now) {
			s.log.Error("the remote refuses to rewrite the branch's history, which a purge does: removed pastes stay in the remote's history, and purges are tried again less and less often, up to once a day",
				"remote", s.remote.Name(), "branch", s.branch.Short(),
				"to_fix", "let this server force-push the branch: in the remote repository, git config receive.denyNonFastForwards false; on a hosted remote, allow force pushes to the branch in its protection rules (or turn the purges off)",
				"next_try", b.next, "err", err)
		} else {
			s.log.Info("the remote still refuses to rewrite the branch's history", "next_try", b.next, "err", err)
		}
	case errors.Is(err, ErrPurgeLater):
		s.log.Info("no purge this time", "err", err)
	default:
		s.log.Warn("purge failed", "err", err)
	}
	return true
}
