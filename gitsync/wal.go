package gitsync

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/wal"
	"github.com/pasteur-dev/pasteur/paste"
)

// The write-ahead log (docs/FORMAT.md, "The write-ahead log").
//
// With a repository on disk and no remote, a group of Creates is appended
// to one log file and fdatasynced, and answered: one fsync of a file that
// exists, where a commit costs the fsyncs of a pack, its index, a ref and
// their directories. The writer loop commits what the log holds behind
// it, as one larger commit (after walIdle without a group, or once the
// oldest logged paste is walMaxAge old, or walMaxBytes are logged), then
// empties the log. Until then the pastes are served from memory
// (logged). A Remove or a Burn commits the log first, so that it meets
// the branch it always did. Open commits what a log left by a crash holds
// before serving; a torn or corrupt tail is dropped, never served.
//
// With a remote, a paste is answered once pushed, as before: the log is
// not written (a log in front of the push would not answer sooner).

const (
	walFile     = "pasteur.wal"
	walIdle     = 5 * time.Millisecond
	walMaxAge   = 100 * time.Millisecond
	walMaxBytes = 8 << 20
	walRetry    = time.Second // after a commit of the log failed
)

// logged is what the log holds that the branch does not yet: guarded by
// Store.mu.
type logged struct {
	docs  map[string][]byte // id: the stored document
	order []string
	bytes int
	since time.Time // when the oldest was logged
	retry time.Time // a commit failed: not before then
}

// openLog opens the log in dir and commits what it holds that the branch
// lacks (a crash came before the writer loop did). The caller holds no
// lock; the loop is not running.
func (s *Store) openLog(dir string) error {
	l, data, err := wal.Open(filepath.Join(dir, walFile))
	if err != nil {
		return fmt.Errorf("gitsync: write-ahead log: %w", err)
	}
	s.wal = l
	s.logged = logged{docs: make(map[string][]byte)}
	recs, n, perr := wal.Parse(data, wal.MaxPayload)
	if perr != nil {
		s.log.Warn("dropping the torn end of the write-ahead log: those pastes were never answered",
			"dropped_bytes", len(data)-n, "err", perr)
	}
	if len(data) == 0 {
		return nil
	}
	tip, err := s.repo.Ref(s.branch)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if !paste.ValidID(r.ID) || s.logged.docs[r.ID] != nil || s.repo.Free(tip, r.ID) != nil {
			continue // committed before the crash
		}
		s.logged.docs[r.ID] = r.Doc
		s.logged.order = append(s.logged.order, r.ID)
	}
	replayed := len(s.logged.order)
	if err := s.commitLog(); err != nil {
		return fmt.Errorf("gitsync: replay the write-ahead log: %w", err)
	}
	s.log.Info("replayed the write-ahead log", "records", len(recs), "committed", replayed)
	return nil
}

// writeLogged logs group (Creates only) and answers it; the caller is the
// writer loop.
func (s *Store) writeLogged(group []*request) {
	t0 := time.Now()
	var buf []byte
	var accepted []*request
	var docs [][]byte
	s.mu.Lock()
	tip, err := s.repo.Ref(s.branch)
	if s.closed {
		err = errClosed
	}
	seen := make(map[string]bool, len(group))
	for _, r := range group {
		if err != nil {
			r.done <- err
			continue
		}
		perr := s.repo.Free(tip, r.p.ID)
		if perr == nil && (seen[r.p.ID] || s.logged.docs[r.p.ID] != nil) {
			perr = fmt.Errorf("gitsync: paste %s: %w", r.p.ID, paste.ErrExists)
		}
		var doc []byte
		if perr == nil {
			doc, perr = paste.Marshal(r.p)
		}
		if perr != nil {
			r.done <- perr
			continue
		}
		seen[r.p.ID] = true
		accepted = append(accepted, r)
		docs = append(docs, doc)
		buf = wal.Append(buf, wal.Record{ID: r.p.ID, Doc: doc})
	}
	s.mu.Unlock()
	if len(accepted) == 0 {
		return
	}
	if err := s.wal.Write(buf); err != nil {
		err = noRoom(err)
		s.log.Error("write-ahead log", "err", err)
		for _, r := range accepted {
			r.done <- err
		}
		return
	}
	s.mu.Lock()
	if len(s.logged.order) == 0 {
		s.logged.since = t0
	}
	for i, r := range accepted {
		s.logged.docs[r.p.ID] = docs[i]
		s.logged.order = append(s.logged.order, r.p.ID)
		s.logged.bytes += len(docs[i])
	}
	s.mu.Unlock()
	for _, r := range accepted {
		s.expiry.add(r.p.ID, r.p.Expires)
	}
	s.counters.committed(len(accepted), time.Since(t0))
	for _, r := range accepted {
		r.done <- nil
	}
}

// logDue reports whether the log should be committed now, without waiting
// for a pause, and if not, when to look again (0: nothing is logged).
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
	if s.logged.bytes >= walMaxBytes || now.Sub(s.logged.since) >= walMaxAge {
		return true, 0
	}
	return false, walIdle
}

// flushLog commits what the log holds, under the writer lock; the caller
// is the writer loop.
func (s *Store) flushLog(ctx context.Context) error {
	if s.wal == nil || len(s.logged.order) == 0 && s.wal.Size() == 0 {
		return nil
	}
	if err := s.lockWriter(ctx); err != nil {
		return err
	}
	defer s.unlockWriter()
	t0 := time.Now()
	n := len(s.logged.order)
	if err := s.commitLog(); err != nil {
		s.mu.Lock()
		s.logged.retry = time.Now().Add(walRetry)
		s.mu.Unlock()
		s.log.Error("commit the write-ahead log; its pastes stay served from it", "pastes", n, "err", err)
		return err
	}
	if n > 0 {
		s.log.Debug("log committed", "pastes", n, "commit", time.Since(t0).String())
	}
	return nil
}

// commitLog commits the logged pastes in one commit, durably, and empties
// the log.
func (s *Store) commitLog() error {
	s.mu.Lock()
	if len(s.logged.order) > 0 {
		err := s.commitLoggedLocked()
		if err != nil {
			s.mu.Unlock()
			return noRoom(err)
		}
	}
	s.mu.Unlock()
	if s.wal.Size() == 0 {
		return nil
	}
	return s.wal.Truncate()
}

// commitLoggedLocked commits the logged pastes; the caller holds s.mu.
func (s *Store) commitLoggedLocked() error {
	if s.closed {
		return errClosed
	}
	parent, err := s.repo.Ref(s.branch)
	if err != nil {
		return err
	}
	pastes := make([]*paste.Paste, 0, len(s.logged.order))
	for _, id := range s.logged.order {
		p, err := paste.Unmarshal(id, s.logged.docs[id])
		if err != nil {
			return err
		}
		pastes = append(pastes, p)
	}
	tip, err := s.repo.CommitPastes(parent, pastes, time.Now())
	if err == nil {
		err = s.repo.SetRef(s.branch, tip)
	}
	if err != nil {
		// The objects written stay unreferenced; the next try writes
		// the commit again.
		return err
	}
	s.logged = logged{docs: make(map[string][]byte)}
	return nil
}

// lookupLogged returns paste id from the log; the caller holds s.mu.
func (s *Store) lookupLogged(id string) (*paste.Paste, bool, error) {
	doc, ok := s.logged.docs[id]
	if !ok {
		return nil, false, nil
	}
	p, err := paste.Unmarshal(id, doc)
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
