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

// The completion of a partial repository, in the background, in steps
// that each fetch one pack and store it durably, so that a restart resumes
// where the last step ended:
//  1. the tip's trees and blobs, a few entries of its root tree at a time
//     (each entry's whole subtree; those done are recorded in the
//     repository, Repo.SetFilled);
//  2. the history, back from the shallow boundary, a number of commits at
//     a time that keeps each pack near stepBytes (the shallow file
//     records where it is);
//  3. the repository is marked complete; the expiry scan and the purge,
//     which read every paste or rewrite the history, run from then on.
const (
	defaultFillStep    = 4   // entries of the root tree per step
	defaultHistoryStep = 100 // commits of the first history step
	// The history steps double their commits while their packs are
	// under stepBytes/4 and stepObjects/4 objects, and halve them over
	// stepBytes or stepObjects. Indexing a pack holds some 100 bytes an
	// object for a while (pasteur's list of them, its deltas, the
	// reverse index): stepObjects keeps that near 25 MB. At 1M pastes a
	// step of 100 commits (thin) is some 40 MB and 240,000 objects.
	stepBytes      = 256 << 20
	stepObjects    = 256 << 10
	maxHistoryStep = 100000
	// completeDelay: the completion begins a while after the start, so
	// that the first reads and pastes have the remote to themselves;
	// then each step is followed by a pause as long as it took (up to
	// maxStepPause), so that they get it at least half the time.
	completeDelay = 5 * time.Second
	maxStepPause  = 10 * time.Second
	// completeRetryMax bounds the pause before a failed step is tried
	// again.
	completeRetryMin = time.Second
	completeRetryMax = time.Minute
	// maxPacks: past this many packs, the completion repacks them into
	// one between its steps; at its end it repacks whatever is there
	// (repo/repack.go: the bases each thin step appended are copies).
	// Then, and on a repository complete at start, the packs are
	// counted every repackEvery, and past maxPacks the small ones are
	// repacked (geometrically: not the large one again), as merges of
	// what commits wrote keep adding packs.
	maxPacks    = 32
	repackEvery = time.Minute
)

// completionSteps sizes the completion's steps; tests make them small, and
// stop after maxSteps (0: no limit; negative: none at all) as a restart
// would.
type completionSteps struct {
	fill, history, maxSteps int
	fixed                   bool          // history stays at its size
	delay                   time.Duration // before the first step
	whole                   bool          // the history steps ask for packs that are not thin
	noRepack                bool          // the packs stay as the steps left them
}

// CompletionStatus says how far the completion of a partial repository
// went, for health checks.
type CompletionStatus struct {
	Partial bool   `json:"partial"`          // objects of the remote are still missing locally
	Step    string `json:"step,omitempty"`   // what is being fetched now
	Filled  int    `json:"filled,omitempty"` // entries of the tip's root tree whose subtrees arrived
	Entries int    `json:"entries,omitempty"`
	Commits int    `json:"history_commits,omitempty"` // commits of history from the first fetch's tip that arrived
	// Repacking: the packs are being written into one (at the end of the
	// completion, from when it is no longer partial, or between its
	// steps).
	Repacking bool `json:"repacking,omitempty"`
}

// complete completes a partial repository, then runs done; it returns
// early when ctx ends (a restart resumes).
func (s *Store) complete(ctx context.Context, done func()) {
	defer s.repacking.Store(false) // set by finishCompletion
	wait := completeRetryMin
	pause := s.steps.delay
	for steps := 0; s.partial.Load(); steps++ {
		if s.steps.maxSteps != 0 && steps >= max(s.steps.maxSteps, 0) {
			return
		}
		if !sleep(ctx, pause) {
			return
		}
		t0 := time.Now()
		err := s.completeStep(ctx)
		pause = min(time.Since(t0), maxStepPause)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn("completing the repository: a step failed; trying again", "remote", s.remote.Name(), "err", err, "next_try_in", wait.String())
			pause = wait
			wait = min(2*wait, completeRetryMax)
			continue
		}
		wait = completeRetryMin
		if s.partial.Load() {
			s.repack(ctx, maxPacks, true)
		}
	}
	s.repack(ctx, 1, false)
	s.deltifyTrees(ctx)
	s.repacking.Store(false)
	done()
}

// repack writes the packs of the repository into one when there are
// more than over (repo.Repacking; geometric: but the large ones): s.mu is
// held to pick them and to switch to the new pack, not while it is
// written. A failure is logged: the packs stay as they were.
func (s *Store) repack(ctx context.Context, over int, geometric bool) {
	s.rewritePacks(ctx, "repacked the repository into one pack", func() (*repo.Repacking, error) {
		return s.repo.PlanRepack(over, geometric)
	})
}

// deltifyTrees rewrites the one pack a completion's repack left with the
// trees stored whole made deltas where a base is found
// (repo.PlanTreeDeltas): the steps could only make deltas against their
// own objects.
func (s *Store) deltifyTrees(ctx context.Context) {
	s.rewritePacks(ctx, "made deltas of the trees stored whole", s.repo.PlanTreeDeltas)
}

// rewritePacks runs the repack plan returns: s.mu is held to plan it and
// to switch to the new pack, not while it is written.
func (s *Store) rewritePacks(ctx context.Context, done string, plan func() (*repo.Repacking, error)) {
	if s.steps.noRepack {
		return
	}
	t0 := time.Now()
	s.mu.Lock()
	var rp *repo.Repacking
	err := errClosed
	if !s.closed {
		rp, err = plan()
	}
	s.mu.Unlock()
	held := time.Since(t0)
	if rp == nil || err != nil {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("repacking the repository", "err", err)
		}
		return
	}
	// Restored after: from the end of the history to its last rewrite,
	// the completion reports it throughout (finishCompletion).
	was := s.repacking.Swap(true)
	defer s.repacking.Store(was)
	err = rp.Write(ctx)
	t1 := time.Now()
	s.mu.Lock()
	switch {
	case err != nil:
	case s.closed:
		err = errClosed
	default:
		err = rp.Finish()
	}
	s.mu.Unlock()
	held = max(held, time.Since(t1))
	if err != nil {
		rp.Discard()
		if ctx.Err() == nil {
			s.log.Warn("repacking the repository", "err", err)
		}
		return
	}
	if err := rp.Sync(); err != nil {
		s.log.Warn("repacking the repository", "err", err)
	}
	st := rp.Stats
	s.log.Info(done, "packs", st.Packs, "objects", st.Objects, "copies_dropped", st.Dropped,
		"trees_made_deltas", st.TreeDeltas, "bytes_before", st.Before, "bytes_after", st.After,
		"took", time.Since(t0).Round(time.Millisecond).String(), "longest_hold", held.Round(time.Microsecond).String())
}

// sleep waits d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// completeStep fetches one step of the completion.
func (s *Store) completeStep(ctx context.Context) error {
	s.mu.Lock()
	shallow, err := s.repo.Shallow()
	var st repo.PartialState
	if err == nil {
		st, err = s.repo.PartialState()
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if len(shallow) == 0 {
		return s.finishCompletion()
	}
	if st.Tip.IsZero() {
		st.Tip = shallow[0] // a mark without its tip: the first fetch's boundary
	}
	if !st.All {
		// The tip's entries first: the history's packs leave out what
		// the tip reaches.
		return s.fillStep(ctx, st.Tip, st.Filled)
	}
	return s.historyStep(ctx, st.Tip, max(st.Depth, 1), shallow)
}

// fillStep fetches the whole subtrees of a few entries of tip's root tree
// that are not filled yet, or records that all are.
func (s *Store) fillStep(ctx context.Context, tip plumbing.Hash, filled map[plumbing.Hash]bool) error {
	var entries []plumbing.Hash
	err := s.lazily(ctx, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		var err error
		entries, err = s.repo.RootEntries(tip)
		return err
	})
	if err != nil {
		return err
	}
	var todo []plumbing.Hash
	for _, e := range entries {
		if !filled[e] {
			todo = append(todo, e)
		}
	}
	s.setCompletion(CompletionStatus{Partial: true, Step: "tip", Filled: len(entries) - len(todo), Entries: len(entries)})
	if len(todo) > 0 {
		todo = todo[:min(s.steps.fill, len(todo))]
		if _, _, _, err := s.fetchStep(ctx, todo, nil, transport.PackOptions{}); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repo.SetFilled(todo)
}

// historyStep fetches the history from tip (the first fetch's) down to
// depth + s.steps.history commits, with what those commits changed, as git
// fetch --depth does: the remote is asked for tip (which it reaches from
// its branch, or allows by hash) deeper, told the shallow boundary, and
// that tip is here; the boundary then moves back.
func (s *Store) historyStep(ctx context.Context, tip plumbing.Hash, depth int, shallow []plumbing.Hash) error {
	s.completed.Store(int64(depth))
	s.setCompletion(CompletionStatus{Partial: true, Step: "history"})
	want := depth + s.steps.history
	// Thin: the trees and blobs of the boundary are the bases of the
	// deltas of what the step brings, and git upload-pack leaves out
	// what they reach (without it, it sends the blobs of the commits the
	// step unshallows again).
	o := transport.PackOptions{Depth: want, Shallows: shallow, Thin: !s.steps.whole}
	boundary, size, objects, err := s.fetchStep(ctx, []plumbing.Hash{tip}, []plumbing.Hash{tip}, o)
	if errors.Is(err, repo.ErrMissingBase) {
		// A remote whose thin pack counts on what this repository
		// lacks: the steps ask for whole packs from now on.
		s.log.Warn("completing the repository: a thin pack lacks a base here; asking for whole packs", "remote", s.remote.Name(), "err", err)
		s.steps.whole = true
	}
	if err != nil {
		return err
	}
	switch {
	case size < stepBytes/4 && objects < stepObjects/4 && s.steps.history < maxHistoryStep && !s.steps.fixed:
		s.steps.history *= 2
	case (size > stepBytes || objects > stepObjects) && s.steps.history > 1 && !s.steps.fixed:
		s.steps.history /= 2
	}
	// The boundary's commits are not read back: reading an object of a
	// pack makes go-git map every offset of that pack in memory.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range boundary {
		if !s.repo.Has(c) {
			return fmt.Errorf("%w: the remote did not send commit %s", repo.ErrRefusedPack, c)
		}
	}
	if err := s.repo.SetShallow(boundary); err != nil {
		return err
	}
	s.completed.Store(int64(want))
	return s.repo.SetDepth(want)
}

// fetchStep fetches wants (and what they reach, less what haves reach) as
// one pack, stored durably, and returns the new shallow boundary for a
// shallow fetch, and the pack's size and objects.
func (s *Store) fetchStep(ctx context.Context, wants, haves []plumbing.Hash, o transport.PackOptions) (_ []plumbing.Hash, size int64, objects int, err error) {
	pctx, progress, stop := progressContext(ctx, stallTimeout, s.log, "completing the repository")
	defer stop()
	o.Progress = progress
	f, err := s.remote.Fetch(pctx)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	pack, boundary, err := f.Pack(pctx, wants, haves, o)
	if err != nil {
		return nil, 0, 0, stalled(pctx, err)
	}
	var in *repo.Received
	if o.Thin {
		in, err = s.repo.ReceiveThin(pack, s.object)
		pack.Close()
	} else {
		in, err = s.receive(pack)
	}
	if err != nil {
		return nil, 0, 0, stalled(pctx, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		in.Discard()
		return nil, 0, 0, errClosed
	}
	if err := s.repo.Add(in); err != nil {
		return nil, 0, 0, fmt.Errorf("store pack: %w", err)
	}
	return boundary, in.Size(), in.Objects(), nil
}

// object reads an object of the repository, for the bases of a thin
// pack. The caller does not hold s.mu.
func (s *Store) object(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repo.Object(h)
}

// finishCompletion marks the repository complete, and lists the removals
// that fetches could not list while it was partial.
func (s *Store) finishCompletion() error {
	s.mu.Lock()
	err := s.repo.SetPartial("", plumbing.ZeroHash)
	if err == nil {
		// Reported from here, not from the repack's start: the
		// completion is not over until the repack that follows it is.
		s.repacking.Store(true)
		s.partial.Store(false)
		moved := s.movedWhilePartial
		s.movedWhilePartial = nil
		for _, m := range moved {
			s.noteRemoved(m[0], m[1])
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.flushRemoved()
	s.setCompletion(CompletionStatus{})
	s.log.Info("the repository is complete: the whole history is here", "remote", s.remote.Name(), "history_commits", s.historyCommits())
	return nil
}

// setCompletion records how far the completion went.
func (s *Store) setCompletion(st CompletionStatus) {
	s.completionMu.Lock()
	s.completion = st
	s.completionMu.Unlock()
}

// Completion returns how far the completion of a partial repository went;
// the zero value once it is complete (or never was partial).
func (s *Store) Completion() CompletionStatus {
	s.completionMu.Lock()
	defer s.completionMu.Unlock()
	st := s.completion
	st.Partial = s.partial.Load()
	st.Repacking = s.repacking.Load()
	if st.Partial {
		st.Commits = s.historyCommits()
	}
	return st
}

func (s *Store) historyCommits() int { return int(s.completed.Load()) }

// completer completes the repository once it is partial (at Open, or
// after a first fetch that was partial), then scans the pastes that
// expire.
func (s *Store) completer(ctx context.Context) {
	tick := time.NewTicker(repackEvery)
	defer tick.Stop()
	s.repack(ctx, maxPacks, true) // what a crash in a repack, or many merges, left
	for {
		for !s.partial.Load() {
			select {
			case <-ctx.Done():
				return
			case <-s.becamePartial:
			case <-tick.C:
				s.repack(ctx, maxPacks, true)
			}
		}
		s.log.Info("completing the repository in the background", "remote", s.remote.Name(), "in", s.steps.delay.String())
		s.complete(ctx, func() { s.scanExpiry(ctx) })
		if s.partial.Load() {
			return // ended early (a test's steps, or ctx)
		}
	}
}
