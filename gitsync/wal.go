package gitsync

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
	"github.com/pasteur-dev/pasteur/gitsync/internal/wal"
	"github.com/pasteur-dev/pasteur/paste"
)

// The write-ahead log (docs/FORMAT.md, "The write-ahead log").
//
// With a repository on disk and no remote, the writer loop appends a group
// of Creates to the log and fdatasyncs it, and answers: one fsync of a
// file that exists, where a commit costs the fsyncs of a pack, its index,
// a ref and their directories. The committer commits what the log holds
// behind it, as larger commits in one pack (after walIdle without a group, or once
// the oldest logged paste is walMaxAge old, walMaxAgeBehind with AckDisk,
// or walMaxBytes are logged), holding the mutex only to build each commit
// and to move the branch, not across the fsyncs, so that the loop goes on
// logging meanwhile. The log
// has two files: the committer makes the other one active before it
// commits, and empties the inactive one once the commit is durable.
// Until then the pastes are served from memory (logged). A Remove or a
// Burn commits the log first, so that it meets the branch it always did.
// Open commits what a log left by a crash holds before serving; a torn or
// corrupt tail is dropped, never served.
//
// With a remote, a paste is answered once pushed (AckPush): the log is not
// written, only replayed at Open. With AckDisk it is written as without a
// remote, and the committer pushes behind its commits (behind.go).

const (
	walFile = "pasteur.wal"
	walIdle = 5 * time.Millisecond
	// walMaxAge: without a remote, fewer and larger rounds rewrite
	// fewer trees a paste (7-8% less CPU a create at 300 ms than every
	// 100 ms; 6-9% less again at 1 s, where a round is one pack written
	// once, BENCHMARKS.md), at the cost of up to walMaxBytes more held
	// in memory; with AckDisk each commit is pushed behind, and the
	// cadence is how late another server sees a paste. walMaxBytes cuts
	// a round of large pastes sooner: a round's pastes, their commits
	// and its encoded pack are all in memory until it is staged, and at
	// 8 MiB a create load of 2 KB pastes peaked at ~140 MiB of RSS and
	// kept 15-16 MiB anonymous after it (2 MiB: ~86 and 9-12, for the
	// same CPU a create, BENCHMARKS.md).
	walMaxAge       = time.Second
	walMaxAgeBehind = 100 * time.Millisecond
	walMaxBytes     = 2 << 20
	// walMaxRoundPastes bounds the pastes of a round of the log, as
	// walMaxBytes bounds their bytes: a round's commits are built, and
	// its pack encoded, in memory, and what they hold (trees rewritten
	// by each commit, copied again by the encoding) grows with the
	// pastes. A round under a sustained load holds ~1,500.
	walMaxRoundPastes = 4 * walMaxCommit
	// A commit of the log holds s.mu while it builds its trees, and
	// Creates wait for s.mu: its pastes are as many as fit in
	// walCommitHold at the pace of the last commit, walMinCommit to
	// walMaxCommit. In a small repository a commit takes ~10 us a paste
	// and a round of the log under load (~1,500 pastes) is one commit,
	// whose leaves each paste of it touches are written once; at a
	// million pastes, most of a millisecond a paste (a leaf read and
	// rewritten each), it is walMinCommit.
	walMinCommit  = 256
	walMaxCommit  = 4096
	walCommitHold = 25 * time.Millisecond
	walRetry      = time.Second // after a commit of the log failed
	// walMaxPending bounds what the log holds uncommitted (and memory
	// with it) when its commits fail: beyond, Creates are refused. Not
	// tied to walMaxBytes: 64 MiB, as when a round was 8 MiB.
	walMaxPending = 64 << 20
)

// logged is what the log holds that the branch does not yet: guarded by
// Store.mu, and changed by the writer loop (appending) and the committer
// (trimming the front).
type logged struct {
	docs  map[string]loggedPaste
	order []string
	bytes int
	since time.Time // when the oldest was logged, or later
	retry time.Time // a commit failed: not before then
}

type loggedPaste struct {
	p   *paste.Paste // the Store's own copy
	doc []byte       // paste.Marshal's
}

// openLog opens the log in dir and commits what it holds that the branch
// lacks (a crash came before the committer did). The loop is not running.
// In a partial repository, what deciding that needs is fetched (ctx).
func (s *Store) openLog(ctx context.Context, dir string) error {
	l, data, err := wal.Open(filepath.Join(dir, walFile))
	if err != nil {
		return fmt.Errorf("gitsync: write-ahead log: %w", err)
	}
	s.wal = l
	s.logged = logged{docs: make(map[string]loggedPaste)}
	var recs [2][]wal.Record
	records := 0
	for i, d := range data {
		var n int
		var perr error
		recs[i], n, perr = wal.Parse(d, wal.MaxPayload)
		if perr != nil {
			s.log.Warn("dropping the torn end of the write-ahead log: those pastes were never answered",
				"file", i, "dropped_bytes", len(d)-n, "err", perr)
		}
		records += len(recs[i])
	}
	if records == 0 && l.Size() == 0 {
		return nil // a new log, or one emptied
	}
	tip, err := s.repo.Ref(s.branch)
	if err != nil {
		return err
	}
	for _, rs := range recs {
		for _, r := range rs {
			if !paste.ValidID(r.ID) || s.logged.docs[r.ID].p != nil {
				continue
			}
			free := s.lazily(ctx, func() error { return s.repo.Free(tip, r.ID) })
			if _, missing := repo.Missing(free); missing || errors.Is(free, paste.ErrUnavailable) {
				// Whether it was committed cannot be told: keep the
				// log as it is for the next start.
				return fmt.Errorf("gitsync: replay the write-ahead log: paste %s: %w", r.ID, free)
			}
			if free != nil {
				continue // committed before the crash
			}
			p, err := paste.Unmarshal(r.ID, r.Doc)
			if err != nil {
				s.log.Warn("dropping a write-ahead log record that is not a paste", "id", r.ID, "err", err)
				continue
			}
			s.logged.docs[r.ID] = loggedPaste{p: p, doc: r.Doc}
			s.logged.order = append(s.logged.order, r.ID)
		}
	}
	replayed := len(s.logged.order)
	// Twice: the second empties the file the first made active.
	for range 2 {
		if err := s.commitLog(); err != nil {
			return fmt.Errorf("gitsync: replay the write-ahead log: %w", err)
		}
	}
	s.loggedSeq.Store(s.committedSeq.Load()) // answered before the start, not pushed yet
	s.log.Info("replayed the write-ahead log", "records", records, "committed", replayed)
	return nil
}

// logging reports whether Creates are logged (wal.go's comment).
func (s *Store) logging() bool { return s.wal != nil && (s.remote == nil || s.ackDisk) }

// writeLogged logs group (Creates only) and answers it; the caller is the
// writer loop.
func (s *Store) writeLogged(ctx context.Context, group []*request) {
	t0 := time.Now()
	if err := s.ensureGroup(ctx, group); err != nil {
		// A partial repository lacks what checking the ids needs, and
		// the remote cannot give it.
		for _, r := range group {
			r.done <- err
		}
		return
	}
	var accepted []*request
	var kept []loggedPaste
	s.mu.Lock()
	tip, err := s.repo.Ref(s.branch)
	switch {
	case s.closed:
		err = errClosed
	case s.logged.bytes >= walMaxPending:
		err = fmt.Errorf("gitsync: %d bytes of pastes wait for their commit behind the write-ahead log: %w",
			s.logged.bytes, paste.ErrUnavailable)
	}
	seen := make(map[string]bool, len(group))
	for _, r := range group {
		if err != nil {
			r.done <- err
			continue
		}
		doc, perr := s.checkNew(tip, r.p, seen[r.p.ID] || s.logged.docs[r.p.ID].p != nil)
		if perr != nil {
			r.done <- perr
			continue
		}
		seen[r.p.ID] = true
		accepted = append(accepted, r)
		p := *r.p
		p.Contents = nil // the commit and the reads take it from doc
		kept = append(kept, loggedPaste{p: &p, doc: doc})
	}
	s.mu.Unlock()
	if len(accepted) == 0 {
		return
	}
	// Encoded by the log, in a buffer it reuses.
	recs := make([]wal.Record, len(kept))
	for i, lp := range kept {
		recs[i] = wal.Record{ID: lp.p.ID, Doc: lp.doc}
	}
	tv := time.Now()
	s.walMu.Lock()
	if err := s.wal.Write(recs); err != nil {
		s.walMu.Unlock()
		err = noRoom(err)
		s.log.Error("write-ahead log", "err", err)
		for _, r := range accepted {
			r.done <- err
		}
		return
	}
	tw := time.Now()
	s.mu.Lock()
	if len(s.logged.order) == 0 {
		s.logged.since = t0
	}
	for _, lp := range kept {
		s.logged.docs[lp.p.ID] = lp
		s.logged.order = append(s.logged.order, lp.p.ID)
		s.logged.bytes += len(lp.doc)
	}
	s.mu.Unlock()
	s.walMu.Unlock()
	s.loggedSeq.Add(int64(len(accepted)))
	for _, r := range accepted {
		s.expiry.add(r.p.ID, r.p.Expires)
	}
	s.counters.committed(len(accepted), time.Since(t0))
	s.log.Debug("logged", "pastes", len(accepted), "check", tv.Sub(t0).String(), "fdatasync", tw.Sub(tv).String())
	for _, r := range accepted {
		r.done <- nil
	}
}

// lookupLogged returns paste id from the log; the caller holds s.mu.
func (s *Store) lookupLogged(id string) (*paste.Paste, bool, error) {
	lp, ok := s.logged.docs[id]
	if !ok {
		return nil, false, nil
	}
	p, err := paste.Unmarshal(id, lp.doc)
	if err == nil && p.ExpiredAt(time.Now()) {
		return nil, true, fmt.Errorf("gitsync: paste %s: %s: %w", id, paste.Expired, paste.ErrGone)
	}
	return p, true, err
}

// hasRemoval reports whether group holds a Remove or a Burn.
func hasRemoval(group []*request) bool {
	for _, r := range group {
		if r.removal() {
			return true
		}
	}
	return false
}
