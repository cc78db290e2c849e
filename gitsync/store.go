// Package gitsync implements paste.Store on a Git repository, synced to a
// remote: the original pasteur's storage.
//
// Each paste is a file holding paste.Marshal's JSON on one branch of a bare
// repository, on disk or in memory, added by a commit of its own (author:
// the user, message: the comment) or, when pastes arrive together, by one
// commit for the group. Pastes are written with go-git's plumbing (blobs,
// trees, commits, refs), never through a worktree. Files go to
// ID[0]/ID[1]/ID; older layouts are read too (layout.go, docs/FORMAT.md).
//
// Durability (queue.go): Create returns once the paste is pushed, or, with
// a repository on disk, once it is committed and fsynced locally while the
// remote cannot take it; it is then queued and pushed with backoff until it
// lands, after a restart too. Concurrent Creates share one commit and one
// push. A push refused because another writer moved the remote branch is
// fetched and replayed, never merged. A read miss fetches (coalesced, at
// most once a second), since other servers may push to the same remote.
//
// The remote is reached through the dial function the caller injects (so
// through pasteur's own TCP/IP stack): git:// and ssh are this package's
// own transports on go-git's protocol encoders (ssh on
// golang.org/x/crypto/ssh, host keys pinned), https is go-git's smart-HTTP
// client on an *http.Client that dials with it. go-git's global transport
// registry is never used.
//
// On disk, writes are fsynced before Create returns (go-git never fsyncs;
// see disk.go and batch.go). A commit's objects are written as one pack of
// pasteur's own encoding (pack.go), and that pack is what the push sends. The remote's tip when last seen is kept in
// refs/remotes/origin/BRANCH: the local branch ahead of it is the queue.
//
// One goroutine, the writer loop, commits and pushes; a writer lock hands
// the branch to it or to a fetch, and a mutex guards go-git's storage,
// which is not safe for concurrent use; the mutex is never held across
// network I/O, so reads do not wait for a push.
package gitsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

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

	// Auth holds the credentials and trust for ssh and https remotes.
	Auth Auth

	// MaxGroup bounds the pastes committed and pushed together; 0 is 256,
	// 1 commits and pushes each paste alone.
	MaxGroup int

	// AckTimeout bounds how long a paste waits for its push before it is
	// acknowledged as queued (with Dir only); 0 is 10 seconds.
	AckTimeout time.Duration

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

	// The writer loop (queue.go).
	durable    bool // a repository on disk: pastes may be queued
	maxGroup   int
	ackTimeout time.Duration
	reqs       chan *request
	kick       chan struct{}
	stop       context.CancelFunc
	loopDone   chan struct{}

	stateMu            sync.Mutex // guards state
	state              remoteState
	retryMin, retryMax time.Duration
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
		durable:       cfg.Dir != "",
		maxGroup:      cfg.MaxGroup,
		ackTimeout:    cfg.AckTimeout,
		reqs:          make(chan *request, 1024),
		kick:          make(chan struct{}, 1),
		loopDone:      make(chan struct{}),
		retryMin:      retryMin,
		retryMax:      retryMax,
	}
	if s.maxGroup <= 0 {
		s.maxGroup = defaultMaxGroup
	}
	if s.ackTimeout <= 0 {
		s.ackTimeout = defaultAckTimeout
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Remote != "" {
		var err error
		if s.remote, err = newRemote(cfg.Remote, name, cfg.Dial, cfg.Auth); err != nil {
			return nil, err
		}
	}
	var err error
	if s.repo, err = openRepo(cfg.Dir, name); err != nil {
		return nil, fmt.Errorf("gitsync: open %s: %w", cfg.Dir, err)
	}
	if s.remote != nil {
		sctx, cancel := ctx, context.CancelFunc(func() {})
		if s.durable {
			// The local repository can serve: do not wait long.
			sctx, cancel = context.WithTimeout(ctx, 3*s.ackTimeout)
		}
		err := s.sync(sctx)
		cancel()
		if err != nil {
			if !s.durable || permanent(err) {
				s.repo.close()
				return nil, s.unavailable("sync with", err)
			}
			// The local repository serves; what it holds that the
			// remote lacks is pushed once the remote is back.
			s.failed(err)
			s.log.Warn("gitsync: the remote cannot be reached; serving the local repository, pushing once it is back",
				"remote", s.remote.name, "err", err)
		} else {
			s.pushed()
		}
	}
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.loop(lctx)
	return s, nil
}

// permanent reports whether err from a remote is a configuration problem
// that waiting will not fix: the repository or the credentials are wrong,
// or the server is not the one pinned or trusted.
func permanent(err error) bool {
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return true
	}
	for _, e := range []error{errHostKey, transport.ErrRepositoryNotFound, transport.ErrAuthenticationRequired,
		transport.ErrAuthorizationFailed, transport.ErrInvalidAuthMethod} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Create implements paste.Store: it returns nil once p is durable. With a
// remote that is once p is pushed; with a repository on disk, also once it
// is committed and fsynced locally while the remote cannot be reached (it
// is then queued, and pushed when the remote is back, even after a
// restart). Without a repository on disk, a paste that cannot be pushed is
// an error wrapping paste.ErrUnavailable, and nothing of it stays. Pastes
// created concurrently share one commit and one push. When another writer
// pushed first, the commit is replayed onto the remote's (ErrExists if that
// writer took the id).
func (s *Store) Create(ctx context.Context, p *paste.Paste) error {
	if !paste.ValidID(p.ID) {
		return fmt.Errorf("gitsync: paste id %q: %w", p.ID, paste.ErrInvalid)
	}
	r := &request{p: p, done: make(chan error, 1)}
	select {
	case <-s.loopDone:
		return errClosed
	default:
	}
	select {
	case s.reqs <- r:
	case <-s.loopDone:
		return errClosed
	case <-ctx.Done():
		return fmt.Errorf("gitsync: %w: %w", paste.ErrUnavailable, ctx.Err())
	}
	select {
	case err := <-r.done:
		return err
	case <-s.loopDone:
		// The loop may have answered just before it ended.
		select {
		case err := <-r.done:
			return err
		default:
			return errClosed
		}
	case <-ctx.Done():
		return fmt.Errorf("gitsync: %w: %w", paste.ErrUnavailable, ctx.Err())
	}
}

// create stores pastes in one commit, as Create does for one, without the
// writer loop (tests).
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
	s.mu.Lock()
	_, tip, err := s.commitLocal(pastes)
	s.mu.Unlock()
	if err != nil || s.remote == nil {
		return err
	}
	return s.push(ctx, tip)
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
	switch {
	case !s.reachable():
		// The retry loop is on it; do not hold the branch for a dial
		// that will time out.
		serr = errors.New(s.Status().LastError)
	case time.Since(s.lastFetch) >= s.fetchInterval:
		fctx, cancel := context.WithTimeout(ctx, s.ackTimeout)
		if serr = s.sync(fctx); serr == nil {
			s.pushed()
		} else {
			s.failed(serr)
		}
		cancel()
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

// Close stops the writer loop (a push in progress is abandoned: its pastes
// are queued with a repository on disk, refused without), refuses pastes
// that still wait, and closes the repository.
func (s *Store) Close() error {
	s.stop()
	<-s.loopDone
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
