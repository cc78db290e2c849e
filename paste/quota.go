package paste

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Quota is a Store that refuses new pastes, with ErrFull and nothing
// written, once the storage under it holds Max bytes or more. Reads pass
// through, and so does everything else of the Store under it.
type Quota struct {
	Store

	// Max is the bound, in bytes, on what Size reports.
	Max int64

	// Size measures the storage (a repository's files on disk). Quota
	// calls it at most once every Every, and counts the pastes it let
	// through in between.
	Size  func() (int64, error)
	Every time.Duration

	mu       sync.Mutex
	size     int64
	measured time.Time
}

// Create stores p unless the storage is full.
func (q *Quota) Create(ctx context.Context, p *Paste) error {
	size, err := q.current()
	if err != nil {
		return fmt.Errorf("%w: measure the storage: %v", ErrUnavailable, err)
	}
	if size >= q.Max {
		return fmt.Errorf("%w: it holds %d bytes, the bound is %d", ErrFull, size, q.Max)
	}
	if err := q.Store.Create(ctx, p); err != nil {
		return err
	}
	q.mu.Lock()
	q.size += int64(len(p.Contents))
	q.mu.Unlock()
	return nil
}

// current is the storage's size: measured again when the last measure is
// older than Every, else the last one plus what was created since.
func (q *Quota) current() (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.measured.IsZero() || time.Since(q.measured) >= q.Every {
		n, err := q.Size()
		if err != nil {
			return 0, err
		}
		q.size, q.measured = n, time.Now()
	}
	return q.size, nil
}
