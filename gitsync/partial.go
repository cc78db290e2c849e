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

// Start-up that does not grow with history. The first fetch into an empty
// repository asks for the remote's tip commit alone (depth 1, filter
// tree:0), when the remote offers "shallow" and "filter": the store serves
// within a second whatever the size of the remote. The trees and blobs a
// read or a write needs are then fetched by hash (want OID, filter tree:0:
// that object alone), a few round trips per paste, each bounded like a read
// miss; a remote that cannot be reached then is paste.ErrUnavailable.
// Pushes never need an absent object: a commit's pack holds what it
// changed, and the remote has the rest. What reads every paste (the expiry
// scan) or rewrites the history (the purge) waits until the repository is
// complete (complete.go).

// partialFirst is what the first fetch asks for when the remote allows it.
var partialFirst = transport.PackOptions{Depth: 1, Filter: "tree:0"}

// lazyFilter makes a want of a tree send that tree alone.
const lazyFilter = "tree:0"

// maxLazyRounds bounds the fetches by hash one operation may need: a
// paste's path is a few trees deep.
const maxLazyRounds = 24

// errPartial: an operation needs the whole history, which has not arrived
// yet.
var errPartial = errors.New("the repository is partial: the history is still arriving from the remote")

// markPartial records that the first fetch, of tip, was partial: the
// shallow commits (tip) and the mark. The caller holds s.mu.
func (s *Store) markPartial(tip plumbing.Hash, shallow []plumbing.Hash) error {
	if err := s.repo.SetShallow(shallow); err != nil {
		return err
	}
	if err := s.repo.SetPartial(partialFirst.Filter, tip); err != nil {
		return err
	}
	s.partial.Store(true)
	select {
	case s.becamePartial <- struct{}{}:
	default:
	}
	s.log.Info("first fetch: the remote's tip only; the rest is fetched when needed", "remote", s.remote.Name())
	return nil
}

// fetchObjects fetches objects by hash into the repository. The caller
// holds no lock.
func (s *Store) fetchObjects(ctx context.Context, hashes []plumbing.Hash) error {
	t0 := time.Now()
	f, err := s.remote.Fetch(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	pack, _, err := f.Pack(ctx, hashes, nil, transport.PackOptions{Filter: lazyFilter})
	if errors.Is(err, transport.ErrUnsupported) {
		return fmt.Errorf("fetch objects by hash: %w", err)
	}
	if err != nil {
		return err
	}
	objs, err := s.repo.ReadObjects(pack)
	pack.Close()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if err := s.repo.AddObjects(objs); err != nil {
		return fmt.Errorf("store fetched objects: %w", err)
	}
	for _, h := range hashes {
		if !s.repo.Has(h) {
			return fmt.Errorf("%w: the remote did not send object %s", repo.ErrRefusedPack, h)
		}
	}
	s.counters.lazy(len(hashes), time.Since(t0))
	return nil
}

// lazily runs op (which takes s.mu itself) and, while it fails for lack of
// an object in a partial repository, fetches that object and runs it
// again. A remote that cannot give it is an error wrapping
// paste.ErrUnavailable.
func (s *Store) lazily(ctx context.Context, op func() error) error {
	for range maxLazyRounds {
		err := op()
		h, ok := repo.Missing(err)
		if !ok || s.remote == nil {
			return err
		}
		if !s.state.reachable() {
			return s.unavailable("fetch an object from", errors.New(s.Status().LastError))
		}
		if err := s.fetchObjects(ctx, []plumbing.Hash{h}); err != nil {
			return s.unavailable("fetch an object from", silent(ctx, err))
		}
	}
	return s.unavailable("fetch objects from", errors.New("too many objects missing"))
}

// ensurePaths fetches, in batches, the objects that reading (read) or
// placing paste ids on the branch needs and the repository lacks. The
// caller holds the writer lock, not s.mu.
func (s *Store) ensurePaths(ctx context.Context, ids []string, read bool) error {
	if !s.partial.Load() || s.remote == nil || len(ids) == 0 {
		return nil
	}
	for range maxLazyRounds {
		s.mu.Lock()
		tip, err := s.repo.Ref(s.branch)
		seen := make(map[plumbing.Hash]bool)
		var want []plumbing.Hash
		for _, id := range ids {
			if err != nil {
				break
			}
			var e error
			if read {
				_, e = s.repo.Find(tip, id)
			} else {
				e = s.repo.Free(tip, id)
			}
			if h, ok := repo.Missing(e); ok && !seen[h] {
				seen[h] = true
				want = append(want, h)
			}
		}
		s.mu.Unlock()
		if err != nil || len(want) == 0 {
			return err
		}
		if err := s.fetchObjects(ctx, want); err != nil {
			return s.unavailable("fetch objects from", silent(ctx, err))
		}
	}
	return s.unavailable("fetch objects from", errors.New("too many objects missing"))
}

// ensureGroup fetches what committing group needs and a partial
// repository lacks, within the time a paste may wait for its answer.
func (s *Store) ensureGroup(ctx context.Context, group []*request) error {
	if !s.partial.Load() {
		return nil
	}
	var adds, removes []string
	for _, r := range group {
		switch {
		case r.removal():
			removes = append(removes, r.id)
		case r.p != nil:
			adds = append(adds, r.p.ID)
		}
	}
	ectx, cancel := context.WithDeadline(ctx, group[0].arrived.Add(s.ackTimeout/2))
	defer cancel()
	if err := s.ensurePaths(ectx, adds, false); err != nil {
		return err
	}
	return s.ensurePaths(ectx, removes, true)
}
