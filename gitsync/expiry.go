package gitsync

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
	"github.com/pasteur-dev/pasteur/paste"
)

// Expiry: an expired paste is gone at once (Get reads its expiry from the
// paste), and the sweeper then removes it from the branch. It keeps an
// index of the pastes that expire, in memory: built by a scan of the tip
// at Open (in the background, in batches that let reads through), and kept
// by Creates and by the pastes that fetches bring. When the first is due
// it removes every due paste with Remove, so that they share a commit.
// Instances sharing a remote all sweep; each waits a random pause after
// the expiry first (up to a quarter of the fetch interval), and finds most
// pastes already removed by the others.

const (
	// sweepJitter bounds the random pause after an expiry.
	sweepJitter = 5 * time.Second
	// sweepRetry is the pause after a sweep that could not remove a
	// paste (the remote unreachable without a repository on disk).
	sweepRetry = time.Minute
	// scanBatch is how many blobs the scan reads under one hold of s.mu.
	scanBatch = 256
)

// expiring is a paste id and when it expires.
type expiring struct {
	at time.Time
	id string
}

// expiryHeap is a min-heap of expiring pastes, earliest first.
type expiryHeap []expiring

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiring)) }
func (h *expiryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// expiryIndex is the pastes that expire, for the sweeper. It is safe for
// concurrent use.
type expiryIndex struct {
	mu      sync.Mutex
	heap    expiryHeap
	changed chan struct{} // a new earliest expiry: the sweeper looks again
}

func newExpiryIndex() *expiryIndex {
	return &expiryIndex{changed: make(chan struct{}, 1)}
}

// add records that paste id expires at at (zero: never, ignored).
func (x *expiryIndex) add(id string, at time.Time) {
	if at.IsZero() {
		return
	}
	x.mu.Lock()
	heap.Push(&x.heap, expiring{at: at, id: id})
	first := x.heap[0].id == id
	x.mu.Unlock()
	if first {
		select {
		case x.changed <- struct{}{}:
		default:
		}
	}
}

// next returns when the earliest paste expires, and whether there is one.
func (x *expiryIndex) next() (time.Time, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.heap) == 0 {
		return time.Time{}, false
	}
	return x.heap[0].at, true
}

// due takes the pastes that expire at or before now, at most max.
func (x *expiryIndex) due(now time.Time, max int) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var ids []string
	for len(x.heap) > 0 && !x.heap[0].at.After(now) && len(ids) < max {
		ids = append(ids, heap.Pop(&x.heap).(expiring).id)
	}
	return ids
}

// len is the number of pastes in the index.
func (x *expiryIndex) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.heap)
}

// noteAdded indexes the pastes that the branch gained as it moved from old
// to new. The caller holds s.mu.
func (s *Store) noteAdded(old, new plumbing.Hash) {
	if old == new {
		return
	}
	err := s.repo.Added(old, new, func(id string, data []byte) error {
		if p, err := paste.Unmarshal(id, data); err == nil {
			s.expiry.add(id, p.Expires)
		}
		return nil
	})
	if _, ok := repo.Missing(err); ok && s.partial.Load() {
		// The scan once the repository is complete reads them.
		return
	}
	if err != nil {
		s.log.Warn("index the expiry of fetched pastes", "err", err)
	}
}

// scanExpiry indexes the pastes of the branch's tip that expire: one tree
// at a time (a million pastes are 20,000 trees) and their blobs in batches,
// so that reads and writes get s.mu in between, and no more than a batch
// of ids held at once (a million pastes' ids and blobs are some 100 MB).
func (s *Store) scanExpiry(ctx context.Context) {
	if s.partial.Load() {
		// It reads every paste: once the repository is complete.
		s.log.Info("the scan of the pastes that expire waits for the whole repository")
		s.scanning.Store(false)
		return
	}
	s.scanning.Store(true)
	defer s.scanning.Store(false)
	t0 := time.Now()
	files := make([]plumbing.Hash, 0, scanBatch)
	ids := make([]string, 0, scanBatch)
	pastes := 0
	// read indexes the batch of files and empties it; false once closed.
	read := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return false
		}
		for j := range files {
			data, err := s.repo.Blob(files[j])
			if err != nil {
				continue
			}
			if p, err := paste.Unmarshal(ids[j], data); err == nil {
				s.expiry.add(ids[j], p.Expires)
			}
		}
		pastes += len(files)
		files, ids = files[:0], ids[:0]
		return true
	}
	// The walk makes the filter of ids on the way (walkTip).
	_, ok, err := s.walkTip(ctx, func(entries []repo.Entry) bool {
		for _, e := range entries {
			if e.ID == "" {
				continue
			}
			ids = append(ids, e.ID)
			files = append(files, e.Hash)
			if len(files) == scanBatch && !read() {
				return false
			}
		}
		return true
	})
	if !ok {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("scan the pastes that expire", "err", err)
		}
		return
	}
	if !read() {
		return
	}
	s.log.Debug("scanned the pastes that expire", "pastes", pastes, "expiring", s.expiry.len(), "took", time.Since(t0).String())
}

// sweep removes expired pastes until ctx ends, and makes the filter of
// ids again when it is dropped (rescanIDs).
func (s *Store) sweep(ctx context.Context) {
	s.scanExpiry(ctx)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := time.Hour
		if at, ok := s.expiry.next(); ok {
			wait = max(time.Until(at), 0)
			// Alone, no pause; with others, a pause within a quarter of
			// the fetch interval, so that most see the first removal.
			if jitter := min(sweepJitter, s.syncInterval/4); s.remote != nil && jitter > 0 {
				wait += rand.N(jitter)
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.expiry.changed:
			continue
		case <-s.repo.IDsLost():
			s.rescanIDs(ctx)
			continue
		case <-timer.C:
		}
		ids := s.expiry.due(time.Now(), s.maxGroup)
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				err := s.Remove(ctx, id, paste.Expired)
				switch {
				case err == nil:
					s.log.Info("expired paste removed", "id", id)
				case errors.Is(err, paste.ErrGone), errors.Is(err, paste.ErrNotFound):
				case ctx.Err() != nil:
				default:
					s.log.Warn("remove an expired paste; trying again later", "id", id, "err", err)
					s.expiry.add(id, time.Now().Add(sweepRetry))
				}
			})
		}
		wg.Wait()
	}
}
