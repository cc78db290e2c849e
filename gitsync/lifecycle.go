package gitsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
	"github.com/pasteur-dev/pasteur/paste"
)

// Removal: Remove and Burn replace a paste's file by its tombstone, in a
// commit on the tip made by the writer loop. Removals go with the pastes
// of their group (a commit of their own after the group's pastes); burns
// are a group of their own, since a burn is answered only once its
// tombstone is on the remote: the push is the compare-and-swap that lets
// exactly one reader, of all the instances sharing the remote, have the
// paste. A burn that loses the race (the push is rejected, and once
// fetched and replayed its tombstone is not the one that stands) is
// ErrGone; one that cannot reach the remote is ErrUnavailable, and its
// commit is dropped, unless the branch moved meanwhile.

// Remove implements paste.Store: it returns once the tombstone of paste
// id is durable, as Create does.
func (s *Store) Remove(ctx context.Context, id string, why paste.Reason) error {
	if !paste.ValidID(id) {
		return fmt.Errorf("gitsync: paste id %q: %w", id, paste.ErrNotFound)
	}
	if !why.Valid() {
		return fmt.Errorf("gitsync: remove %s: reason %q: %w", id, why, paste.ErrInvalid)
	}
	return s.submit(ctx, &request{id: id, why: why, done: make(chan error, 1)})
}

// Burn implements paste.Store.
func (s *Store) Burn(ctx context.Context, id string) (*paste.Paste, error) {
	if !paste.ValidID(id) {
		return nil, fmt.Errorf("gitsync: paste id %q: %w", id, paste.ErrNotFound)
	}
	r := &request{id: id, why: paste.Burned, burn: true, done: make(chan error, 1)}
	if err := s.submit(ctx, r); err != nil {
		return nil, err
	}
	return r.p, nil
}

// splitBurns separates the burns of group from the rest.
func splitBurns(group []*request) (regular, burns []*request) {
	for _, r := range group {
		if r.burn {
			burns = append(burns, r)
		} else {
			regular = append(regular, r)
		}
	}
	return regular, burns
}

// checkRemovals returns the tombstones to write for the removals of reqs
// in commit tip, and the requests they answer, answering the others: a
// paste that is not there (ErrNotFound) or already removed (ErrGone). A
// burn of an expired paste writes its tombstone as expired and is ErrGone.
// A burn's request gets its paste. The caller holds s.mu.
func (s *Store) checkRemovals(tip plumbing.Hash, reqs []*request, now time.Time) ([]repo.Removal, []*request) {
	var removals []repo.Removal
	var kept []*request
	seen := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		_, data, err := s.repo.Locate(tip, r.id)
		var p *paste.Paste
		if err == nil {
			p, err = paste.Unmarshal(r.id, data)
		}
		if err == nil && seen[r.id] {
			err = fmt.Errorf("gitsync: paste %s: %w", r.id, paste.ErrGone)
		}
		why := r.why
		if err == nil && r.burn && p.ExpiredAt(now) {
			why = paste.Expired
		}
		if err != nil {
			if errors.Is(err, paste.ErrNotFound) && s.wasRemoved(r.id) {
				err = fmt.Errorf("gitsync: paste %s: %w", r.id, paste.ErrGone)
			}
			r.done <- err
			continue
		}
		seen[r.id] = true
		removals = append(removals, repo.Removal{ID: r.id, Why: why, Tombstone: paste.MarshalTombstone(why, now)})
		if why != r.why {
			r.done <- fmt.Errorf("gitsync: paste %s: %s: %w", r.id, why, paste.ErrGone)
			continue
		}
		if r.burn {
			r.p = p
		}
		kept = append(kept, r)
	}
	return removals, kept
}

// writeBurns removes the pastes of burns and answers each once its
// tombstone is pushed (or committed, without a remote).
func (s *Store) writeBurns(ctx context.Context, burns []*request) {
	if err := s.lockWriter(ctx); err != nil {
		for _, r := range burns {
			r.done <- err
		}
		return
	}
	defer s.unlockWriter()
	if err := s.ensureGroup(ctx, burns); err != nil {
		for _, r := range burns {
			r.done <- err
		}
		return
	}

	now := time.Now()
	s.mu.Lock()
	var parent, tip plumbing.Hash
	var removals []repo.Removal
	var kept []*request
	err := errClosed
	if !s.closed {
		if parent, err = s.repo.Ref(s.branch); err == nil {
			removals, kept = s.checkRemovals(parent, burns, now)
			if len(removals) > 0 {
				if tip, err = s.repo.CommitRemovals(parent, removals, now); err == nil {
					err = s.repo.SetRef(s.branch, tip)
					s.removedSincePurge.Store(true)
				}
			}
		}
	}
	s.mu.Unlock()
	answer := func(err error) {
		for _, r := range kept {
			if err != nil {
				r.p = nil
			}
			r.done <- err
		}
	}
	if err != nil || len(removals) == 0 || s.remote == nil {
		answer(err)
		return
	}
	if !s.state.reachable() {
		s.dropBurn(parent, tip)
		answer(s.unavailable("burn: push to", errors.New(s.Status().LastError)))
		return
	}
	pctx, cancel := context.WithTimeout(ctx, s.ackTimeout)
	defer cancel()
	err = s.push(pctx, tip)
	if errors.Is(err, errRejected) {
		s.log.Info("the remote moved; fetching to see whether the burn stands", "remote", s.remote.Name())
		err = s.reconcile(pctx)
	}
	if err != nil {
		s.failed(err)
		s.dropBurn(parent, tip)
		answer(s.unavailable("burn: push to", err))
		return
	}
	s.pushed()
	// The burn is the reader's when its own tombstone stands on the
	// remote's tip; another instance's means that one read it.
	s.mu.Lock()
	now2, err := s.repo.Ref(s.branch)
	for i, r := range kept {
		if err != nil {
			break
		}
		if _, data, ferr := s.repo.Locate(now2, r.id); ferr != nil || string(data) != string(removals[indexOf(removals, r.id)].Tombstone) {
			r.p = nil
			kept[i] = nil
			r.done <- fmt.Errorf("gitsync: burn %s: another reader had it: %w", r.id, paste.ErrGone)
		}
	}
	s.mu.Unlock()
	for _, r := range kept {
		if r == nil {
			continue
		}
		if err != nil {
			r.p = nil
		}
		r.done <- err
	}
}

// indexOf is the index of the removal of id in removals.
func indexOf(removals []repo.Removal, id string) int {
	for i, rm := range removals {
		if rm.ID == id {
			return i
		}
	}
	return -1
}

// dropBurn takes back a burn commit (tip, on parent) that did not reach the
// remote, when the branch is still at it: the pastes are left as they
// were. The caller holds the writer lock.
func (s *Store) dropBurn(parent, tip plumbing.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now, err := s.repo.Ref(s.branch); err != nil || now != tip {
		s.log.Warn("a burn that did not reach the remote stays queued: its pastes are removed unread", "commit", tip.String())
		return
	}
	if err := s.repo.SetRef(s.branch, parent); err != nil {
		s.log.Error("take back a burn that did not reach the remote", "err", err)
	}
}

// wasRemoved reports whether this store saw paste id removed from the
// branch (a file deleted on the remote, as an operator's git rm does):
// such an id is gone, not unknown.
func (s *Store) wasRemoved(id string) bool {
	s.goneMu.Lock()
	defer s.goneMu.Unlock()
	return s.gone[id]
}

// noteMoved records what the branch lost and gained as it moved from old
// to new: removed pastes for the caches, and pastes that expire for the
// sweeper. The caller holds s.mu.
func (s *Store) noteMoved(old, new plumbing.Hash) {
	s.noteRemoved(old, new)
	s.noteAdded(old, new)
}

// noteRemoved records the ids of pastes that left the branch as it moved
// from old to new, and tells Config.OnRemove. The caller holds s.mu; the
// callback runs later, from flushRemoved, without it.
func (s *Store) noteRemoved(old, new plumbing.Hash) {
	if old.IsZero() || old == new {
		return
	}
	ids, err := s.repo.Removed(old, new)
	if _, ok := repo.Missing(err); ok && s.partial.Load() {
		// Some trees of old were never fetched: the removals are
		// found again once the repository is complete (complete.go).
		s.movedWhilePartial = append(s.movedWhilePartial, [2]plumbing.Hash{old, new})
		return
	}
	if err != nil {
		s.log.Warn("list the pastes a fetch removed", "err", err)
		return
	}
	if len(ids) == 0 {
		return
	}
	s.removedSincePurge.Store(true)
	s.goneMu.Lock()
	for _, id := range ids {
		s.gone[id] = true
	}
	s.pendingRemoved = append(s.pendingRemoved, ids...)
	s.goneMu.Unlock()
}

// flushRemoved passes the ids noteRemoved recorded to Config.OnRemove.
// The caller holds neither s.mu nor s.goneMu.
func (s *Store) flushRemoved() {
	s.goneMu.Lock()
	ids := s.pendingRemoved
	s.pendingRemoved = nil
	s.goneMu.Unlock()
	if len(ids) > 0 && s.onRemove != nil {
		s.onRemove(ids)
	}
}
