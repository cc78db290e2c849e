package gitsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/paste"
)

// The writer loop: groups, and the queue.
//
// One goroutine, the writer loop, moves the branch for Create. It takes the
// pastes that wait for it, up to maxGroup, commits them in one commit and
// pushes that commit once: concurrent pastes share a commit and a push, and
// each Create returns when its group is durable.
//
// Durable means pushed; or, with a repository on disk, committed and
// fsynced locally when the remote cannot be reached (the push failed, or
// did not finish by nine tenths of ackTimeout after the group's first
// paste arrived): the paste is then queued, and the loop
// pushes the queue with exponential backoff until it lands. The queue is
// the local branch ahead of the remote-tracking ref, so it survives a
// restart: Open pushes it, or the loop does once the remote is back. While
// the remote is known to be down, new pastes are queued without trying it.
// Without a repository on disk nothing is queued: a paste that cannot be
// pushed is refused (ErrUnavailable) and its commit rolled back. With a
// repository on disk and no remote, or with AckDisk, the loop logs Creates
// instead of committing them (wal.go), and with a remote the committer
// pushes behind the log (behind.go).

const (
	groupLinger = time.Millisecond
	groupWait   = 5 * time.Millisecond
	// returnWait bounds how long a group waits for the requests the
	// loop answered last to come back (gather); those answered longer
	// ago are not waited for.
	returnWait = 10 * time.Millisecond
	// logReturnWait is returnWait for the groups the write-ahead log
	// takes, whose fdatasync is well under a millisecond: a client
	// answered is back within a round trip, or is not waited for.
	logReturnWait = 500 * time.Microsecond
	// pushTimeout bounds a push of the queue.
	pushTimeout = time.Minute
	// minPushTime: a group whose answer is due sooner is queued without
	// trying the remote.
	minPushTime = 100 * time.Millisecond
	// giveWayPoll is how often a push of the queue looks for waiting
	// pastes.
	giveWayPoll = 20 * time.Millisecond
)

// request is one Create, Remove or Burn waiting for the writer loop.
type request struct {
	p       *paste.Paste // Create's paste; Burn's, once done says nil
	id      string       // Remove's and Burn's
	why     paste.Reason // Remove's; Burn's is paste.Burned
	burn    bool
	arrived time.Time  // when it was handed over: its answer is due ackTimeout later
	done    chan error // buffered: the loop never blocks on it
}

// write commits group: its burns apart (lifecycle.go), the rest together.
func (s *Store) write(ctx context.Context, group []*request) {
	if s.wal != nil {
		if s.logging() && !hasRemoval(group) {
			s.writeLogged(ctx, group)
			return
		}
		if s.pushesBehind() {
			// A push behind the log gives way to this group; the
			// committer then sees what this group left to retry.
			s.loopWaits.Store(true)
			defer s.kickCommitter()
			defer s.loopWaits.Store(false)
		}
		if err := s.flushLog(ctx); err != nil {
			for _, r := range group {
				r.done <- err
			}
			return
		}
	}
	regular, burns := splitBurns(group)
	if len(regular) > 0 {
		s.writeGroup(ctx, regular)
	}
	if len(burns) > 0 {
		s.writeBurns(ctx, burns)
	}
}

// removal reports whether r removes a paste (Remove, Burn).
func (r *request) removal() bool { return r.p == nil || r.burn }

// loop is the writer loop; it ends when ctx does, refusing what still waits.
func (s *Store) loop(ctx context.Context) {
	defer close(s.loopDone)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	if d, ok := s.state.retryIn(time.Now()); ok && !s.pushesBehind() {
		retry.Reset(d) // Open could not reconcile
	}
	commit := time.NewTimer(time.Hour) // commits the log after a pause
	commit.Stop()
	var syncC <-chan time.Time
	if s.remote != nil && s.syncInterval > 0 && !s.pushesBehind() {
		t := time.NewTicker(s.syncInterval)
		defer t.Stop()
		syncC = t.C
	}
	for {
		select {
		case <-syncC:
			s.syncNow(ctx)
		case r := <-s.waiting:
			s.writeAndNote(ctx, s.gather(r))
		case <-retry.C:
			select {
			case r := <-s.waiting:
				// Pastes first: the push of the queue is due again
				// right after.
				s.writeAndNote(ctx, s.gather(r))
			default:
				s.pushQueue(ctx)
			}
		case <-commit.C:
			s.kickCommitter()
		case <-ctx.Done():
			for {
				select {
				case r := <-s.waiting:
					r.done <- errClosed
				default:
					s.flushLog(context.Background())
					return
				}
			}
		}
		if due, wait := s.logDue(); due {
			s.kickCommitter()
		} else if wait > 0 {
			commit.Reset(wait)
		}
		if d, ok := s.state.retryIn(time.Now()); ok && !s.pushesBehind() {
			retry.Reset(d)
		} else {
			retry.Stop()
		}
	}
}

// gather returns first and the requests that follow it closely, up to
// maxGroup. Clients answered together by the last push come back at
// nearly the same time, and should share the next commit rather than
// split into a group of those back first and one of the rest, each
// paying a push (a push costs the remote about the same whatever it
// carries: git receive-pack's processes and checks). So the group
// waits, up to returnWait, for as many requests as may come back: those
// the last write answered, if it answered them lately, and those that
// came during it; it ends at once when they are all here. When none is
// expected, it takes those that arrive within groupLinger of the
// previous one (up to groupWait in all).
func (s *Store) gather(first *request) []*request {
	group := []*request{first}
	if s.maxGroup == 1 {
		return group
	}
	// expect: the requests answered lately, who may come back, and those
	// that arrived before that answer (they came during the write).
	expect := 0
	if time.Since(s.lastAnswer) < returnWait {
		expect = s.lastAnswered
	}
	if s.logging() {
		return s.gatherLogged(group, expect)
	}
	take := func(r *request) {
		group = append(group, r)
		if r.arrived.Before(s.lastAnswer) {
			expect++
		}
	}
	if first.arrived.Before(s.lastAnswer) {
		expect++
	}
	wait := groupWait
	if expect > 0 {
		wait = returnWait
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for len(group) < s.maxGroup {
		select {
		case r := <-s.waiting:
			take(r)
			continue
		default:
		}
		if expect > 0 && len(group) >= expect {
			return group // all that could come are here
		}
		var linger *time.Timer
		var lingerC <-chan time.Time
		if expect == 0 {
			linger = time.NewTimer(groupLinger)
			lingerC = linger.C
		}
		select {
		case r := <-s.waiting:
			take(r)
			if linger != nil {
				linger.Stop()
			}
			continue
		case <-lingerC:
		case <-deadline.C:
			if linger != nil {
				linger.Stop()
			}
		}
		return group
	}
	return group
}

// gatherLogged is gather for a group the log takes: one fdatasync a
// group. Without a wait, the clients of the last group came back one by
// one during the next fdatasync, the first alone in a group of its own
// (a debug log of 16 clients: 988 groups of one paste in 2,104). It waits
// up to logReturnWait for those the last group answered, leaving as soon
// as they are here; with nobody expected, it takes what has come.
func (s *Store) gatherLogged(group []*request, expect int) []*request {
	for _, r := range group {
		if r.arrived.Before(s.lastAnswer) {
			expect++
		}
	}
	var deadline <-chan time.Time
	for len(group) < s.maxGroup {
		select {
		case r := <-s.waiting:
			group = append(group, r)
			if r.arrived.Before(s.lastAnswer) {
				expect++
			}
			continue
		default:
		}
		if len(group) >= expect {
			return group
		}
		if deadline == nil {
			t := time.NewTimer(logReturnWait)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case r := <-s.waiting:
			group = append(group, r)
			if r.arrived.Before(s.lastAnswer) {
				expect++
			}
		case <-deadline:
			return group
		}
	}
	return group
}

// writeAndNote writes group and records what it answered, for the next
// gather: how many, and when (a request that arrived before then came
// during the write: it did not come back from this answer).
func (s *Store) writeAndNote(ctx context.Context, group []*request) {
	s.answerAt = time.Time{}
	s.write(ctx, group)
	s.lastAnswered, s.lastAnswer = len(group), s.answerAt
	if s.lastAnswer.IsZero() {
		s.lastAnswer = time.Now()
	}
}

// writeGroup commits group in one commit and makes it durable, answering
// each request.
func (s *Store) writeGroup(ctx context.Context, group []*request) {
	if err := s.lockWriter(ctx); err != nil {
		for _, r := range group {
			r.done <- err
		}
		return
	}
	defer s.unlockWriter()

	if err := s.ensureGroup(ctx, group); err != nil {
		for _, r := range group {
			r.done <- err
		}
		return
	}
	t0 := time.Now()
	s.mu.Lock()
	accepted, parent, tip, err := s.commitGroup(group)
	s.mu.Unlock()
	err = noRoom(err)
	t1 := time.Now()
	if err == nil {
		// Counted before any answer, so that a Create that returned is
		// in the counters.
		s.counters.committed(len(accepted), t1.Sub(t0))
	}
	defer func() {
		s.log.Debug("group", "pastes", len(accepted), "commit", t1.Sub(t0).String(), "push", time.Since(t1).String())
	}()
	answer := func(err error) {
		s.answerAt = time.Now()
		for _, r := range accepted {
			r.done <- err
		}
	}
	if err != nil || len(accepted) == 0 || s.remote == nil {
		answer(err)
		return
	}
	// The push must end in time to answer the group's first paste within
	// ackTimeout of its arrival (a tenth of it spare, for the answer to
	// reach the client), whatever the remote does.
	due := group[0].arrived.Add(s.ackTimeout - s.ackTimeout/10)
	if s.durable && (!s.state.reachable() || time.Until(due) < minPushTime) {
		s.queued(len(accepted), nil)
		answer(nil)
		return
	}

	pctx, cancel := context.WithDeadline(ctx, due)
	defer cancel()
	err = s.push(pctx, tip)
	if errors.Is(err, errRejected) {
		s.log.Info("the remote moved; fetching to replay", "remote", s.remote.Name())
		err = s.reconcile(pctx)
	}
	err = silent(pctx, err)
	if err == nil {
		s.counters.pushed(time.Since(t1))
		s.pushed()
		s.answerReplayed(accepted, tip)
		return
	}
	if s.durable {
		s.queued(len(accepted), err)
		answer(nil)
		return
	}
	// Not durable: forget the commit (and any replay of it).
	s.mu.Lock()
	back, rerr := s.repo.Ref(s.tracking)
	if rerr == nil {
		if back.IsZero() {
			back = parent
		}
		rerr = s.repo.SetRef(s.branch, back)
	}
	s.mu.Unlock()
	if rerr != nil {
		s.log.Error("roll back after a failed push", "err", rerr)
	}
	s.failed(err)
	answer(s.unavailable("push", err))
}

// commitGroup commits the pastes of group that can be stored in one commit
// on the branch, and then the removals of group in another, and returns
// their requests, answering the others (an id taken, twice in the group,
// or invalid; a removal of a paste not there or already removed). The
// caller holds s.mu.
func (s *Store) commitGroup(group []*request) (accepted []*request, parent, tip plumbing.Hash, err error) {
	if s.closed {
		return group, parent, tip, errClosed
	}
	if parent, err = s.repo.Ref(s.branch); err != nil {
		return group, parent, tip, err
	}
	tip = parent
	seen := make(map[string]bool, len(group))
	var pastes []*paste.Paste
	var removes []*request
	for _, r := range group {
		if r.removal() {
			removes = append(removes, r)
			continue
		}
		if _, perr := s.checkNew(parent, r.p, seen[r.p.ID]); perr != nil {
			r.done <- perr
			continue
		}
		seen[r.p.ID] = true
		accepted = append(accepted, r)
		pastes = append(pastes, r.p)
	}
	if len(pastes) > 0 {
		if tip, err = s.repo.CommitPastes(parent, pastes, time.Now()); err != nil {
			return accepted, parent, parent, err
		}
		for _, p := range pastes {
			s.expiry.add(p.ID, p.Expires)
		}
	}
	now := time.Now()
	removals, removed := s.checkRemovals(tip, removes, now)
	if len(removals) > 0 {
		rtip, err := s.repo.CommitRemovals(tip, removals, now)
		if err != nil {
			for _, r := range removed {
				r.done <- err
			}
		} else {
			tip = rtip
			accepted = append(accepted, removed...)
			s.removedSincePurge.Store(true)
		}
	}
	if len(accepted) == 0 {
		return nil, parent, parent, nil
	}
	return accepted, parent, tip, s.repo.SetRef(s.branch, tip)
}

// answerReplayed answers the requests of a pushed group. When the push
// needed a replay onto another writer's commits (the branch is no longer
// tip), a paste whose id that writer took was dropped: it gets ErrExists.
func (s *Store) answerReplayed(accepted []*request, tip plumbing.Hash) {
	s.mu.Lock()
	now, err := s.repo.Ref(s.branch)
	errs := make([]error, len(accepted))
	if err == nil && now != tip {
		for i, r := range accepted {
			if r.removal() {
				// Removed, by this commit or by another writer's.
				if _, data, ferr := s.repo.Locate(now, r.id); ferr == nil {
					if _, gone := paste.IsTombstone(data); !gone {
						errs[i] = fmt.Errorf("gitsync: remove %s: the remote holds it still: %w", r.id, paste.ErrUnavailable)
					}
				}
				continue
			}
			data, ferr := s.repo.Find(now, r.p.ID)
			want, _ := paste.Marshal(r.p)
			if ferr != nil || string(data) != string(want) {
				errs[i] = fmt.Errorf("gitsync: paste %s: %w", r.p.ID, paste.ErrExists)
			}
		}
	}
	s.mu.Unlock()
	s.answerAt = time.Now()
	for i, r := range accepted {
		if err != nil {
			errs[i] = err
		}
		r.done <- errs[i]
	}
}

// syncNow fetches, as other instances may have pushed pastes and removals,
// and pushes the queue if any. A remote known to be down is left to the
// queue's retries.
func (s *Store) syncNow(ctx context.Context) {
	if !s.state.reachable() {
		return
	}
	if err := s.lockWriter(ctx); err != nil {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, s.ackTimeout)
	err := s.reconcile(rctx)
	cancel()
	s.unlockWriter()
	s.counters.synced()
	if err != nil && ctx.Err() == nil {
		s.failed(err)
		s.log.Warn("periodic fetch failed", "remote", s.remote.Name(), "err", err)
	}
	if err != nil {
		return
	}
	s.pushed()
}

// pushQueue reconciles with the remote, which pushes the queue. It gives
// way to pastes that wait for the loop (see giveWay).
func (s *Store) pushQueue(ctx context.Context) {
	if err := s.lockWriter(ctx); err != nil {
		return
	}
	defer s.unlockWriter()
	rctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	gave := s.giveWay(cancel, func() bool { return len(s.waiting) > 0 })
	err := silent(rctx, s.reconcile(rctx))
	if gaveWay := gave(); err != nil && gaveWay {
		// Not the remote's fault, as far as we know: try again after
		// the same pause, the waiting pastes answered.
		s.state.retryLater(time.Now())
		s.log.Debug("the push of the queue gave way to waiting pastes", "remote", s.remote.Name(), "err", err)
		return
	}
	if err != nil {
		changed := s.failed(err)
		if errors.Is(err, errRejected) {
			s.log.Info("other writers keep pushing first; the queue is pushed again soon",
				"remote", s.remote.Name())
			return
		}
		// Once per state: a refusing remote would fill the log.
		level := slog.LevelDebug
		if changed {
			level = slog.LevelWarn
		}
		s.log.Log(ctx, level, "the remote cannot take the queue; pastes stay queued",
			"remote", s.remote.Name(), "problem", problemOf(err), "err", err, "next_try_in", s.state.backoff().String())
		return
	}
	s.pushed()
	s.log.Info("the remote is reachable again; the queue is pushed", "remote", s.remote.Name())
}

// giveWay cancels a push of the queue (cancel is its context's) once
// waiting has reported requests waiting (pastes for the loop, or the loop
// for the writer lock) for a quarter of ackTimeout: they are then
// answered (queued) within ackTimeout, even when the remote accepts
// connections and never answers. The function it returns reports whether
// it did; it must be called once the push has ended.
func (s *Store) giveWay(cancel context.CancelFunc, waiting func() bool) (gave func() bool) {
	stopped := make(chan struct{})
	result := make(chan bool, 1)
	go func() {
		t := time.NewTicker(giveWayPoll)
		defer t.Stop()
		var since time.Time
		for {
			select {
			case <-stopped:
				result <- false
				return
			case now := <-t.C:
				switch {
				case !waiting():
					since = time.Time{}
				case since.IsZero():
					since = now.Add(-giveWayPoll) // they came since the last look
				case now.Sub(since) >= s.ackTimeout/4:
					cancel()
					result <- true
					return
				}
			}
		}
	}()
	return func() bool {
		close(stopped)
		return <-result
	}
}

// checkNew returns the document of p, a new paste for the branch at tip,
// or why it cannot be made: its id is on the branch, or taken already
// (taken: earlier in its group, or waiting in the log), or p does not
// marshal.
func (s *Store) checkNew(tip plumbing.Hash, p *paste.Paste, taken bool) ([]byte, error) {
	if err := s.repo.Free(tip, p.ID); err != nil {
		return nil, err
	}
	if taken {
		return nil, fmt.Errorf("gitsync: paste %s: %w", p.ID, paste.ErrExists)
	}
	return paste.Marshal(p)
}
