package gitsync

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// The push behind the write-ahead log (Config.Ack AckDisk, with a remote).
//
// The writer loop logs Creates and answers them as it does without a
// remote (wal.go). The committer commits the log behind them and then
// pushes the branch: a push carries every commit made since the last one,
// so that a slow remote makes pushes larger, not answers slower; the log
// absorbs what arrives meanwhile (up to walMaxPending, then 503). A
// refused push is fetched, replayed and pushed again (reconcile), as the
// queue always was: the local branch ahead of the remote-tracking ref,
// which survives a restart. While the remote is down, the pushes back
// off as the queue's do; the periodic fetch is done here too, so that
// the writer loop never waits for the remote for a Create. Removals and
// burns still go through the writer loop and are answered once pushed
// (or queued): a push behind gives way to one that waited a quarter of
// AckTimeout for the writer lock.

// pushesBehind reports whether Creates are answered from the log and
// pushed behind it.
func (s *Store) pushesBehind() bool { return s.remote != nil && s.ackDisk && s.wal != nil }

// behind is the committer with AckDisk and a remote: it commits the log
// when the writer loop asks, pushes what the branch holds that the remote
// lacks, retries while the remote is down, and fetches every syncInterval.
func (s *Store) behind(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	var syncC <-chan time.Time
	if s.syncInterval > 0 {
		t := time.NewTicker(s.syncInterval)
		defer t.Stop()
		syncC = t.C
	}
	// What Open could not push is pushed when the remote is due.
	s.kickCommitter()
	for {
		sync := false
		select {
		case <-s.kick:
		case <-retry.C:
		case <-syncC:
			sync = true
		case <-ctx.Done():
			return
		}
		s.flushLog(ctx)
		s.pushBehind(ctx, sync)
		if d, ok := s.state.retryIn(time.Now()); ok {
			retry.Reset(d)
		} else {
			retry.Stop()
		}
	}
}

// pushBehind pushes the branch when it holds commits the remote lacks, or
// with sync, fetches too; while the remote is backed off, it waits for
// its turn.
func (s *Store) pushBehind(ctx context.Context, sync bool) {
	wait, due := s.state.retryIn(time.Now())
	if due && wait > 0 {
		return
	}
	if !due && !sync && !s.unpushed() {
		return
	}
	if err := s.lockWriter(ctx); err != nil {
		return
	}
	defer s.unlockWriter()
	t0 := time.Now()
	pctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	gave := s.giveWay(cancel, s.loopWaiting)
	var err error
	if due || sync {
		// After an outage or for the periodic fetch: take what other
		// servers pushed meanwhile, then push.
		err = s.reconcile(pctx)
		if sync {
			s.counters.synced()
		}
	} else {
		s.mu.Lock()
		tip, rerr := s.repo.Ref(s.branch)
		s.mu.Unlock()
		if err = rerr; err == nil {
			err = s.push(pctx, tip)
		}
		if errors.Is(err, errRejected) {
			s.log.Debug("the remote moved; fetching to replay", "remote", s.remote.Name())
			err = s.reconcile(pctx)
		}
	}
	err = silent(pctx, err)
	if gaveWay := gave(); err != nil && gaveWay {
		s.state.retryLater(time.Now())
		s.log.Debug("the push behind the log gave way to a removal", "remote", s.remote.Name(), "err", err)
		return
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		level := slog.LevelDebug
		if s.failed(err) && !errors.Is(err, errRejected) {
			level = slog.LevelWarn
		}
		s.log.Log(ctx, level, "the remote cannot take the logged pastes now; they stay committed locally and are pushed later",
			"remote", s.remote.Name(), "problem", problemOf(err), "err", err, "next_try_in", s.state.backoff().String())
		return
	}
	s.counters.pushed(time.Since(t0))
	if due {
		s.log.Info("the remote is reachable again; the logged pastes are pushed", "remote", s.remote.Name())
	}
	s.pushed()
}

// unpushed reports whether the branch holds commits the remote lacks.
func (s *Store) unpushed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	local, err1 := s.repo.Ref(s.branch)
	tracking, err2 := s.repo.Ref(s.tracking)
	return err1 == nil && err2 == nil && local != tracking && !local.IsZero()
}

// loopWaiting reports whether the writer loop waits for the writer lock
// (a removal, with AckDisk).
func (s *Store) loopWaiting() bool { return s.loopWaits.Load() }

// pushMark returns what the branch holds of the pastes logged since
// Open, for markPushed once the remote holds the branch as it is now.
// The caller holds the writer lock: no commit of the log comes between.
func (s *Store) pushMark() int64 { return s.committedSeq.Load() }

// markPushed records that the remote holds the pastes logged up to mark.
func (s *Store) markPushed(mark int64) {
	for {
		old := s.pushedSeq.Load()
		if mark <= old || s.pushedSeq.CompareAndSwap(old, mark) {
			return
		}
	}
}

// loggedUnpushed is how many pastes answered from the log the remote
// lacks, and how many of them wait for their commit.
func (s *Store) loggedUnpushed() (unpushed, uncommitted int) {
	s.mu.Lock()
	uncommitted = len(s.logged.order)
	s.mu.Unlock()
	return int(s.loggedSeq.Load() - s.pushedSeq.Load()), uncommitted
}
