package gitsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
)

// The purge: a removed paste's text stays in every commit from the one
// that added it to the one that replaced it by its tombstone. Purge
// rewrites the branch without it (repo.Purge), and pushes the new history
// with a lease, so that a fresh clone of the remote no longer has it.
//
// Pastes keep being acknowledged while it runs. The rewrite works on the
// tip when the purge began, in steps that hold the repository's mutex for
// purgeHold at most each; its objects go to a temporary pack file as they
// are made, which is completed, indexed and added without the mutex (as a
// fetched pack is), and sent from the file to the remote under a ref of
// their own (purgeRef), without the writer lock.
// Only then does the purge take the writer lock, for about as long as one
// group takes: it fetches, carries the commits made meanwhile over onto
// the new history (a replay), and pushes the branch from the tip it just
// fetched (the lease: the push is refused if another writer moved it
// since, and the purge tries again); the remote already has the new
// history's objects, so the pack is small. Last, purgeRef is deleted.
//
// Other instances adopt the new history at their next fetch (catchUp: a
// remote tip that does not descend from the tracking ref), carrying over
// only their commits that never reached the remote.
//
// The purged tip is kept in purgedRef: the next purge reads the history
// only from the first commit that holds a paste removed since (the
// commits carried over are after it, and read again).

const (
	// purgeStep is about how many objects a step of the rewrite reads (a
	// commit's rewrite, once begun, is finished: its trees, some hundreds
	// at most); steps follow one another under s.mu for purgeHold at
	// most, then pastes and reads get their turn: the purge waits
	// purgeGap before it takes s.mu again (Go's mutex would let it take
	// it back at once, ahead of those waiting).
	purgeStep = 25
	purgeHold = 20 * time.Millisecond
	purgeGap  = 5 * time.Millisecond
	// carryStep is how many commits made during a purge are carried over
	// under one hold of s.mu; carryLeft, how many may be left for the
	// writer lock.
	carryStep = 8
	carryLeft = 16
	// purgeRef holds the rewritten history on the remote while the
	// branch is moved to it.
	purgeRef = plumbing.ReferenceName("refs/pasteur/purge")
	// purgedRef, in the local repository, is the tip of the last purge:
	// the next one reads only the history from the first commit that
	// holds content removed since (repo.Purge).
	purgedRef = plumbing.ReferenceName("refs/pasteur/purged")
)

// ErrPurgeLater: a purge could not run now (pastes wait in the queue for
// the remote, or another writer moved the branch first); the next one will.
var ErrPurgeLater = errors.New("gitsync: purge later")

// PurgeStats says what a purge did.
type PurgeStats struct {
	repo.PurgeStats
	Objects   int           // objects written by the rewrite
	PackBytes int           // sent to the remote
	Rewrite   time.Duration // the rewrite, in steps
	Locked    time.Duration // the writer lock held: carrying over and pushing the branch
	Total     time.Duration
}

// Purge rewrites the branch so that no commit holds the content of a
// removed paste, and pushes it with a lease. It returns what it did, and
// an error wrapping ErrPurgeLater when it could not run now.
func (s *Store) Purge(ctx context.Context) (st PurgeStats, err error) {
	t0 := time.Now()
	defer func() { st.Total = time.Since(t0) }()
	s.purging.Lock()
	defer s.purging.Unlock()

	if s.partial.Load() {
		// A rewrite of a shallow history would push a history that lost
		// its past.
		return st, fmt.Errorf("%w: %w", ErrPurgeLater, errPartial)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return st, errClosed
	}
	var start, tracking, clean plumbing.Hash
	start, err = s.repo.Ref(s.branch)
	if err == nil {
		tracking, err = s.repo.Ref(s.tracking)
	}
	if err == nil {
		clean, err = s.repo.Ref(purgedRef)
	}
	var pr *repo.Purge
	if err == nil && !start.IsZero() {
		pr, err = s.repo.NewPurge(start, clean)
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		return st, err
	case start.IsZero():
		return st, nil
	case s.remote != nil && start != tracking:
		return st, fmt.Errorf("%w: pastes wait for the remote", ErrPurgeLater)
	}

	defer pr.Discard()
	for !pr.Done() {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		s.mu.Lock()
		err := errClosed
		if !s.closed {
			for t := time.Now(); err == errClosed || err == nil && !pr.Done() && time.Since(t) < purgeHold; {
				err = pr.Step(purgeStep)
			}
		}
		s.mu.Unlock()
		if err != nil {
			return st, fmt.Errorf("gitsync: purge: %w", err)
		}
		if !pr.Done() {
			time.Sleep(purgeGap)
		}
	}
	st.PurgeStats = pr.Stats()
	st.Objects = pr.Objects()
	rewritten := pr.Tip()
	if rewritten == start {
		s.mu.Lock()
		if !s.closed && clean != start {
			err = s.repo.SetRef(purgedRef, start)
		}
		s.mu.Unlock()
		return st, err
	}
	// The new objects went to a pack file of their own as they were made;
	// it is completed, indexed and added to the repository without the
	// mutex, as a fetched pack is, and sent from the file.
	in, err := pr.Finish()
	if err != nil {
		return st, fmt.Errorf("gitsync: purge: %w", err)
	}
	st.PackBytes = int(in.Size())
	pack, err := in.Open()
	if err != nil {
		in.Discard()
		return st, fmt.Errorf("gitsync: purge: %w", err)
	}
	defer pack.Close()
	s.mu.Lock()
	if s.closed {
		err = errClosed
	} else {
		err = s.repo.Add(in)
	}
	s.mu.Unlock()
	if err != nil {
		in.Discard()
		return st, fmt.Errorf("gitsync: purge: %w", err)
	}
	st.Rewrite = time.Since(t0)
	if s.remote != nil {
		if err := s.sendPurged(ctx, pr.Tip(), pack); err != nil {
			return st, rewriteRefusal(s.unavailable("purge: push to", err))
		}
		defer s.dropPurgeRef(rewritten)
	}

	// Carry the commits made meanwhile over now, a few under each hold of
	// s.mu, so that few are left for the writer lock.
	if s.purgeSent != nil {
		s.purgeSent()
	}
	base, onto, err := s.carryOver(ctx, start, rewritten)
	if err != nil {
		return st, err
	}
	if err := s.lockWriter(ctx); err != nil {
		return st, err
	}
	t1 := time.Now()
	err = s.moveToPurged(ctx, base, onto, rewritten)
	st.Locked = time.Since(t1)
	s.unlockWriter()
	if err != nil {
		return st, rewriteRefusal(err)
	}
	// The commits carried over are not part of the mark: one made and
	// removed meanwhile still holds its paste.
	s.mu.Lock()
	if !s.closed {
		err = s.repo.SetRef(purgedRef, rewritten)
	}
	s.mu.Unlock()
	if err != nil {
		return st, fmt.Errorf("gitsync: purge: %w", err)
	}
	s.log.Info("purged the history of removed pastes", "commits", st.Commits, "kept", st.Kept, "rewritten", st.Rewritten,
		"dropped", st.Dropped, "objects", st.Objects, "pack_bytes", st.PackBytes,
		"rewrite", st.Rewrite.String(), "locked", st.Locked.String())
	return st, nil
}

// sendPurged sends the rewritten history (pack, ending at tip) to the
// remote, under purgeRef.
func (s *Store) sendPurged(ctx context.Context, tip plumbing.Hash, pack io.Reader) error {
	p, err := s.remote.Push(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	old, err := p.Tip(purgeRef)
	if err != nil {
		return err
	}
	return p.SendFrom(ctx, purgeRef, old, tip, pack)
}

// dropPurgeRef deletes purgeRef on the remote, where it points at tip.
func (s *Store) dropPurgeRef(tip plumbing.Hash) {
	ctx, cancel := context.WithTimeout(context.Background(), s.ackTimeout)
	defer cancel()
	p, err := s.remote.Push(ctx)
	if err == nil {
		err = p.Send(ctx, purgeRef, tip, plumbing.ZeroHash, nil)
		p.Close()
	}
	if err != nil {
		s.log.Warn("delete the purge's ref on the remote", "ref", purgeRef.String(), "err", err)
	}
}

// carryOver replays the commits the branch gained since start (on the old
// history) onto rewritten (start, purged), carryStep at a time under s.mu,
// until few are left, and returns the last commit carried and its copy.
// The branch itself is left alone: the writer lock's holder moves it.
func (s *Store) carryOver(ctx context.Context, start, rewritten plumbing.Hash) (base, onto plumbing.Hash, err error) {
	base, onto = start, rewritten
	for {
		s.mu.Lock()
		local, err := s.repo.Ref(s.branch)
		var line []plumbing.Hash
		if err == nil {
			line, err = s.repo.Line(local, base)
		}
		s.mu.Unlock()
		if err == nil && len(line) <= carryLeft {
			return base, onto, nil
		}
		for i := 0; err == nil && i < len(line); i += carryStep {
			if err = ctx.Err(); err != nil {
				return base, onto, err
			}
			next := line[min(i+carryStep, len(line))-1]
			s.mu.Lock()
			if onto, err = s.repo.Replay(next, base, onto, s.log); err == nil {
				base = next
			}
			s.mu.Unlock()
		}
		if errors.Is(err, repo.ErrNotAncestor) {
			return base, onto, fmt.Errorf("%w: the branch took another history meanwhile", ErrPurgeLater)
		}
		if err != nil {
			return base, onto, fmt.Errorf("gitsync: purge: %w", err)
		}
	}
}

// moveToPurged carries the commits made since start over onto rewritten
// (start's history, purged), pushes the result from the remote tip last
// seen (a lease), and moves the branch to it. With a remote, it first
// fetches, so that the lease names the remote's tip of now, and tries
// again a few times when another writer pushes first. The remote has
// the history up to sent (under purgeRef): rewritten, or an ancestor of
// it when carryOver carried commits already. The caller holds the writer
// lock.
func (s *Store) moveToPurged(ctx context.Context, start, rewritten, sent plumbing.Hash) error {
	var err error
	for range maxAttempts {
		if s.remote != nil {
			rctx, cancel := context.WithTimeout(ctx, s.ackTimeout)
			err = s.reconcile(rctx)
			cancel()
			if err != nil {
				return s.unavailable("purge: fetch from", err)
			}
		}
		if err = s.tryMoveToPurged(ctx, start, rewritten, sent); !errors.Is(err, errRejected) {
			return err
		}
	}
	return fmt.Errorf("%w: other writers kept pushing first: %w", ErrPurgeLater, err)
}

// tryMoveToPurged is one attempt of moveToPurged, after a fetch.
func (s *Store) tryMoveToPurged(ctx context.Context, start, rewritten, sent plumbing.Hash) error {
	s.mu.Lock()
	local, err := s.repo.Ref(s.branch)
	var tracking plumbing.Hash
	if err == nil {
		tracking, err = s.repo.Ref(s.tracking)
	}
	ok := false
	if err == nil {
		ok, err = s.repo.IsAncestor(start, local)
	}
	tip := rewritten
	if err == nil && ok && local != start {
		tip, err = s.repo.Replay(local, start, rewritten, s.log)
	}
	same := true
	if err == nil && ok {
		// A purge rewrites the history, never the tip: the new tip must
		// hold what the branch holds. A replay carries what commits add
		// and change, not what they delete: an operator's git rm pushed
		// while the purge ran would come back with it. The next purge
		// starts after such a commit.
		var want, got plumbing.Hash
		if want, err = s.repo.Root(local); err == nil {
			got, err = s.repo.Root(tip)
		}
		same = want == got
	}
	var objs []plumbing.Hash
	if err == nil && ok && same {
		// Since sent, not rewritten: the commits carryOver carried are
		// on the remote only with this push.
		objs, err = s.repo.ObjectsSince(tip, sent)
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		return fmt.Errorf("gitsync: purge: %w", err)
	case !ok:
		return fmt.Errorf("%w: the branch took another history meanwhile", ErrPurgeLater)
	case !same:
		return fmt.Errorf("%w: commits made meanwhile deleted files, which the purged history would hold again", ErrPurgeLater)
	}

	if s.remote != nil {
		pctx, cancel := context.WithTimeout(ctx, s.ackTimeout)
		defer cancel()
		p, err := s.remote.Push(pctx)
		if err != nil {
			return s.unavailable("purge: push to", err)
		}
		defer p.Close()
		old, err := p.Tip(s.branch)
		if err != nil {
			return s.unavailable("purge: push to", err)
		}
		if old != tracking {
			return fmt.Errorf("the remote moved: %w", errRejected)
		}
		s.mu.Lock()
		pack, err := s.repo.PackOf(objs, p.RefDeltas())
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if err := p.Send(pctx, s.branch, old, tip, pack); err != nil {
			// A lost race (the branch moved since the fetch) is tried
			// again; a refusal is the remote's word.
			if err = s.raceOrRefusal(pctx, old, err); errors.Is(err, errRejected) {
				return err
			}
			return s.unavailable("purge: push to", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remote != nil {
		if err := s.repo.SetRef(s.tracking, tip); err != nil {
			return err
		}
	}
	return s.repo.SetRef(s.branch, tip)
}

// purgeLoop purges every interval until ctx ends, when a paste was
// removed since the last purge (or since Open), pausing longer after a
// remote refused the rewrite (purgeTick).
func (s *Store) purgeLoop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	s.removedSincePurge.Store(true)
	b := purgeBackoff{interval: interval}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.purgeTick(ctx, &b, now)
		}
	}
}
