// Package gitsync implements paste.Store on a Git repository, synced to a
// remote: the original pasteur's storage.
//
// Each paste is a file holding paste.Marshal's JSON, added by a commit of
// its own (author: the user, message: the comment) on one branch of a bare
// repository, on disk or in memory. Pastes are written with go-git's
// plumbing (blobs, trees, commits, refs), never through a worktree. With a
// remote, Create returns only once the commit is pushed; a read miss
// fetches, since other servers may push to the same remote.
//
// The remote is reached through the dial function the caller injects (so
// through pasteur's own TCP/IP stack): the git:// transport is this
// package's own, on go-git's protocol encoders, and go-git's global
// transport registry is never used.
//
// On disk, Create returns only once the objects and the branch ref are
// fsynced (go-git never fsyncs; see disk.go). Pastes go to ID[0:2]/ID, and
// the original's flat layout (ID at the root) is read too; see layout.go.
// The remote's tip when last seen is kept in refs/remotes/origin/BRANCH.
//
// One writer at a time (Create, fetches) owns the branch, and a mutex guards
// go-git's storage, which is not safe for concurrent use; the mutex is never
// held across network I/O, so reads do not wait for a push.
package gitsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/paste"
)

// Config describes a Store.
type Config struct {
	// Dir is the bare repository on disk, created when missing. "" keeps
	// the repository in memory only.
	Dir string

	// Remote is the repository to sync with, "git://host[:port]/path";
	// "" for none. A remote without the branch is given it by the first
	// paste.
	Remote string

	// Branch holds the pastes, here and on the remote; "" is "master".
	Branch string

	// Dial connects to the remote; required when Remote is set.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Logger receives what happens; nil discards it.
	Logger *slog.Logger
}

// Store is a paste.Store on a Git repository. It is safe for concurrent use.
type Store struct {
	log    *slog.Logger
	branch plumbing.ReferenceName
	remote *remote // nil without a remote

	// writer is held by the one goroutine that moves the branch (Create, a
	// fetch), across network I/O. lastFetch is guarded by it.
	writer        chan struct{}
	lastFetch     time.Time
	fetchInterval time.Duration // minimum time between miss fetches

	mu     sync.Mutex // guards repo and closed; never held across network I/O
	repo   *repo
	closed bool
}

var _ paste.Store = (*Store)(nil)

var errClosed = fmt.Errorf("gitsync: store closed: %w", paste.ErrUnavailable)

// Open opens the repository in cfg.Dir, creating it when missing, and with
// a remote, syncs with it: the local branch takes the remote's commits, and
// the remote gets local commits it lacks (commits that were never
// acknowledged, replayed onto the remote's when both moved). A remote that
// cannot be reached is an error wrapping paste.ErrUnavailable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	branch := cfg.Branch
	if branch == "" {
		branch = "master"
	}
	name := plumbing.NewBranchReferenceName(branch)
	if err := name.Validate(); err != nil {
		return nil, fmt.Errorf("gitsync: branch %q: %w", branch, err)
	}
	s := &Store{
		log:           cfg.Logger,
		branch:        name,
		writer:        make(chan struct{}, 1),
		fetchInterval: minFetchInterval,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Remote != "" {
		var err error
		if s.remote, err = newRemote(cfg.Remote, name, cfg.Dial); err != nil {
			return nil, err
		}
	}
	var err error
	if s.repo, err = openRepo(cfg.Dir, name); err != nil {
		return nil, fmt.Errorf("gitsync: open %s: %w", cfg.Dir, err)
	}
	if s.remote != nil {
		if err := s.sync(ctx); err != nil {
			s.repo.close()
			return nil, s.unavailable("sync with", err)
		}
	}
	return s, nil
}

// Create implements paste.Store: it commits p and, with a remote, pushes
// the commit before returning nil. When the remote cannot take it, the local
// branch is rolled back and the error wraps paste.ErrUnavailable. When
// another writer pushed first, Create fetches and commits again on top
// (ErrExists if that writer took the id), a few times at most.
func (s *Store) Create(ctx context.Context, p *paste.Paste) error {
	return s.create(ctx, []*paste.Paste{p})
}

// create stores pastes in one commit, as Create does for one.
func (s *Store) create(ctx context.Context, pastes []*paste.Paste) error {
	for _, p := range pastes {
		if !paste.ValidID(p.ID) {
			return fmt.Errorf("gitsync: paste id %q: %w", p.ID, paste.ErrInvalid)
		}
	}
	if err := s.lockWriter(ctx); err != nil {
		return err
	}
	defer s.unlockWriter()
	for attempt := 1; ; attempt++ {
		s.mu.Lock()
		parent, tip, err := s.commitLocal(pastes)
		s.mu.Unlock()
		if err != nil || s.remote == nil {
			return err
		}
		err = s.push(ctx, tip)
		if err == nil {
			return nil
		}
		s.mu.Lock()
		rerr := s.repo.setRef(s.branch, parent)
		s.mu.Unlock()
		if rerr != nil {
			// The commit stays local, unacknowledged; the next sync
			// pushes it.
			s.log.Error("gitsync: roll back after a failed push", "err", rerr)
		}
		if !errors.Is(err, errRejected) || attempt == maxAttempts {
			return s.unavailable("push", err)
		}
		s.log.Info("gitsync: the remote moved; fetching to commit again",
			"remote", s.remote.name, "attempt", attempt)
		if err := s.sync(ctx); err != nil {
			return s.unavailable("fetch", err)
		}
	}
}

// commitLocal commits pastes on the local branch and returns the old and the
// new tip. The caller holds s.mu.
func (s *Store) commitLocal(pastes []*paste.Paste) (parent, tip plumbing.Hash, err error) {
	if s.closed {
		return parent, tip, errClosed
	}
	if parent, err = s.repo.ref(s.branch); err != nil {
		return parent, tip, err
	}
	if tip, err = s.repo.commitPastes(parent, pastes, time.Now()); err != nil {
		return parent, tip, err
	}
	return parent, tip, s.repo.setRef(s.branch, tip)
}

// Get implements paste.Store. An id that is not valid is not found. On a
// miss with a remote, Get fetches (at most once a second; misses that queue
// behind a fetch share it) and looks again; a remote that cannot be reached
// then is an error wrapping paste.ErrUnavailable. The paste's User, Comment
// and Created are left empty: they are in the history, not in the file.
func (s *Store) Get(ctx context.Context, id string) (*paste.Paste, error) {
	if !paste.ValidID(id) {
		return nil, fmt.Errorf("gitsync: paste id %q: %w", id, paste.ErrNotFound)
	}
	p, err := s.lookup(id)
	if s.remote == nil || !errors.Is(err, paste.ErrNotFound) {
		return p, err
	}
	if err := s.lockWriter(ctx); err != nil {
		return nil, err
	}
	var serr error
	if time.Since(s.lastFetch) >= s.fetchInterval {
		serr = s.sync(ctx)
	}
	s.unlockWriter()
	if serr != nil {
		return nil, s.unavailable("fetch", serr)
	}
	return s.lookup(id)
}

// lookup reads paste id from the local branch.
func (s *Store) lookup(id string) (*paste.Paste, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	tip, err := s.repo.ref(s.branch)
	if err != nil {
		return nil, fmt.Errorf("gitsync: read %s: %w", s.branch.Short(), err)
	}
	if tip.IsZero() {
		return nil, fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrNotFound)
	}
	root, err := s.repo.treeOf(tip)
	if err != nil {
		return nil, fmt.Errorf("gitsync: read %s: %w", tip, err)
	}
	data, err := s.repo.findPaste(root, id)
	if err != nil {
		return nil, err
	}
	return paste.Unmarshal(id, data)
}

// Close waits for a write in progress and closes the repository.
func (s *Store) Close() error {
	s.writer <- struct{}{}
	defer s.unlockWriter()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.repo.close()
}

// lockWriter takes the writer lock, unless ctx ends first or the store is
// closed.
func (s *Store) lockWriter(ctx context.Context) error {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("gitsync: %w: %w", paste.ErrUnavailable, ctx.Err())
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		s.unlockWriter()
		return errClosed
	}
	return nil
}

func (s *Store) unlockWriter() { <-s.writer }

// unavailable wraps err from a remote operation.
func (s *Store) unavailable(op string, err error) error {
	return fmt.Errorf("gitsync: %s %s: %w: %w", op, s.remote.name, paste.ErrUnavailable, err)
}
