package gitsync

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
	"github.com/pasteur-dev/pasteur/paste"
)

// The committer: the commit behind the write-ahead log (wal.go).

// logDue reports whether the log should be committed now, and if not,
// when to look again (0: nothing is logged).
func (s *Store) logDue() (bool, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.logged.order) == 0 {
		return false, 0
	}
	now := time.Now()
	if wait := s.logged.retry.Sub(now); wait > 0 {
		return false, wait
	}
	maxAge := walMaxAge
	if s.pushesBehind() {
		maxAge = walMaxAgeBehind
	}
	if s.logged.bytes >= walMaxBytes || now.Sub(s.logged.since) >= maxAge {
		return true, 0
	}
	return false, walIdle
}

// committer commits the log when the writer loop asks (s.kick), and with
// AckDisk and a remote, pushes behind it (behind.go).
func (s *Store) committer(ctx context.Context) {
	if s.pushesBehind() {
		s.behind(ctx)
		return
	}
	for {
		select {
		case <-s.kick:
		case <-ctx.Done():
			return
		}
		s.flushLog(ctx)
	}
}

// kickCommitter asks the committer to commit the log.
func (s *Store) kickCommitter() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// flushLog commits what the log holds, under the writer lock.
func (s *Store) flushLog(ctx context.Context) error {
	if s.wal == nil {
		return nil
	}
	s.mu.Lock()
	n := len(s.logged.order)
	s.mu.Unlock()
	if n == 0 && s.walEmpty() {
		return nil
	}
	if err := s.lockWriter(ctx); err != nil {
		return err
	}
	defer s.unlockWriter()
	if err := s.commitLog(); err != nil {
		s.mu.Lock()
		s.logged.retry = time.Now().Add(walRetry)
		s.mu.Unlock()
		s.log.Error("commit the write-ahead log; its pastes stay served from it", "pastes", n, "err", err)
		return err
	}
	return nil
}

// commitSize is the pastes of the log's next commit; the caller holds
// the writer lock, as notePace's does.
func (s *Store) commitSize() int {
	if s.commitPace <= 0 {
		return walMinCommit
	}
	return int(min(max(int64(walCommitHold/s.commitPace), walMinCommit), walMaxCommit))
}

// notePace notes the time a paste took in a commit of n pastes begun at
// start.
func (s *Store) notePace(start time.Time, n int) {
	s.commitPace = time.Since(start) / time.Duration(max(n, 1))
}

// walEmpty reports whether the log holds nothing, durably: an emptying
// that failed is written again by the next commit of the log, before a
// Remove that follows it commits (wal.Log.Empty).
func (s *Store) walEmpty() bool {
	s.walMu.Lock()
	defer s.walMu.Unlock()
	return s.wal.Empty()
}

// commitLog commits the pastes logged so far, durably, in rounds of
// walMaxBytes and walMaxRoundPastes at most (commitDocs), and empties
// the log file that held them. The caller holds the writer lock.
func (s *Store) commitLog() error {
	// What is logged now, all in the active file or the inactive one;
	// the loop appends to the other file from here on.
	s.walMu.Lock()
	s.mu.Lock()
	k := len(s.logged.order)
	ids := s.logged.order[:k:k]
	pastes := make([]*paste.Paste, k)
	docs := make([][]byte, k)
	for i, id := range ids {
		pastes[i], docs[i] = s.logged.docs[id].p, s.logged.docs[id].doc
	}
	cut := time.Now()
	err := s.wal.Rotate()
	s.mu.Unlock()
	s.walMu.Unlock()
	if err != nil {
		return err
	}
	// In rounds of walMaxBytes and walMaxRoundPastes at most: a round is
	// built and encoded in memory whole, and the log may hold up to
	// walMaxPending (commits that lagged or failed, or a log found at a
	// start).
	for i := 0; i < k; {
		j, b := i, 0
		if u := s.unwritten; u != nil && len(u.ids) <= k-i && slices.Equal(u.ids, ids[i:i+len(u.ids)]) {
			// The round that found no room, staged again as it was
			// (restage); what was logged since is the next round's.
			j = i + len(u.ids)
		} else {
			for j < k && (j == i || b+len(docs[j]) <= walMaxBytes && j-i < walMaxRoundPastes) {
				b += len(docs[j])
				j++
			}
		}
		if err := s.commitDocs(ids[i:j], pastes[i:j], docs[i:j], cut); err != nil {
			return noRoom(err)
		}
		i = j
	}
	s.walMu.Lock()
	defer s.walMu.Unlock()
	return s.wal.EmptyInactive()
}

// commitDocs commits pastes, the first logged, durably, and drops them
// from logged. The commits are made in memory, each holding s.mu only to
// build it, of as many pastes as the last commit's pace fits in
// walCommitHold (wal.go). Then one pack holds them
// all (for the log's pastes of a sustained load, one written as a merge
// writes it, each byte once: repo/stagedwhole.go), and the branch moves
// to the last.
func (s *Store) commitDocs(ids []string, pastes []*paste.Paste, docs [][]byte, cut time.Time) error {
	t0 := time.Now()
	var from, tip plumbing.Hash // the branch before, the last commit made
	// A round that found no room for its pack is staged again as it was.
	stage, err := s.restage(ids)
	if err != nil {
		return err
	}
	var blobs []repo.Blob
	if stage != nil {
		from, tip = s.unwritten.from, s.unwritten.tip
	} else {
		blobs = make([]repo.Blob, len(docs))
		for i, d := range docs {
			blobs[i] = repo.MakeBlob(d)
		}
	}
	s.unwritten = nil
	// In a partial repository, a fetch may have moved the branch onto
	// trees it lacks: those are fetched.
	ctx, cancel := context.WithTimeout(context.Background(), s.ackTimeout)
	defer cancel()
	for i, j := 0, 0; stage == nil && i < len(ids); i = j {
		j = min(i+s.commitSize(), len(ids))
		err := s.lazily(ctx, func() error {
			s.mu.Lock()
			defer s.mu.Unlock()
			defer s.notePace(time.Now(), j-i)
			if s.closed {
				return errClosed
			}
			ref, err := s.repo.Ref(s.branch)
			if err != nil {
				return err
			}
			parent := tip
			if i == 0 {
				from, parent = ref, ref
			} else if ref != from {
				return fmt.Errorf("gitsync: the branch moved from %s to %s during a commit of the log", from, ref)
			}
			c, err := s.repo.CommitBlobs(parent, pastes[i:j], blobs[i:j], time.Now())
			if err != nil {
				return err
			}
			tip = c
			if j == len(ids) {
				stage, err = s.repo.Stage(s.branch, tip)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	t1 := time.Now()
	if err := stage.Write(); err != nil {
		s.unwritten = &unwrittenRound{ids: slices.Clone(ids), from: from, tip: tip}
		return err
	}
	t2 := time.Now()
	s.mu.Lock()
	err = stage.Finish()
	if err == nil {
		for _, id := range ids {
			s.logged.bytes -= len(s.logged.docs[id].doc)
			delete(s.logged.docs, id)
		}
		s.logged.order = append([]string(nil), s.logged.order[len(ids):]...)
		s.logged.since = cut
		s.committedSeq.Add(int64(len(ids)))
	}
	s.mu.Unlock()
	if err != nil {
		s.unwritten = &unwrittenRound{ids: slices.Clone(ids), from: from, tip: tip}
		return err
	}
	t3 := time.Now()
	err = stage.Sync()
	s.log.Debug("log commit", "pastes", len(ids), "locked", t1.Sub(t0).String(), "write", t2.Sub(t1).String(),
		"locked_after", t3.Sub(t2).String(), "sync", time.Since(t3).String())
	return err
}

// unwrittenRound is a round of the log whose commits were made, from
// the branch at from to tip, but not made durable (its pack found no
// room on the disk): its objects are still in memory, and the next
// round, of the same pastes on the same branch, stages them again
// rather than building them anew each walRetry, which held the
// repository for a round's building and kept every copy in memory until
// the disk had room, then wrote them, unreachable.
type unwrittenRound struct {
	ids       []string
	from, tip plumbing.Hash
}

// restage stages the unwritten round again for ids, when it is theirs
// and the branch is where it began; nil when it is not. The caller holds
// the writer lock.
func (s *Store) restage(ids []string) (*repo.Staged, error) {
	u := s.unwritten
	if u == nil || !slices.Equal(u.ids, ids) {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	ref, err := s.repo.Ref(s.branch)
	if err != nil || ref != u.from {
		return nil, err
	}
	if !s.repo.Has(u.tip) {
		return nil, nil // built anew
	}
	return s.repo.Stage(s.branch, u.tip)
}
