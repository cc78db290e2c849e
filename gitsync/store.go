// Package gitsync implements paste.Store on a Git repository, synced to a
// remote: the original pasteur's storage.
//
// Each paste is a file holding paste.Marshal's JSON on one branch of a bare
// repository, on disk or in memory, added by a commit of its own (author:
// the user, message: the comment) or, when pastes arrive together, by one
// commit for the group. Files go to ID[0]/ID[1]/ID; older layouts are read
// too (docs/FORMAT.md).
//
// Durability (writer.go): Create returns once the paste is pushed, or, with
// a repository on disk, once it is committed and fsynced locally while the
// remote cannot take it; it is then queued and pushed with backoff until it
// lands, after a restart too. Without a remote, or with Config.Ack
// AckDisk, it returns once the paste is in the write-ahead log (wal.go),
// committed behind it, and with a remote, pushed behind the commit
// (behind.go). Concurrent
// Creates share one commit and one push. A push refused because another
// writer moved the remote branch is fetched and replayed, never merged
// (reconcile.go). A read miss fetches
// (at most once a second; misses that come meanwhile share it), since other
// servers may push to the same remote. The remote's tip when last seen is
// kept in refs/remotes/origin/BRANCH: the local branch ahead of it is the
// queue.
//
// The Store holds the two parts it is made of: the local repository
// (internal/repo: go-git's plumbing, pasteur's own packs and fsyncs) and
// the remote (internal/transport: git://, ssh and https through the dial
// function the caller injects).
//
// One goroutine, the writer loop, commits and pushes; a writer lock hands
// the branch to it or to a fetch, and a mutex guards the repository, which
// is not safe for concurrent use; the mutex is never held across network
// I/O, so reads do not wait for a push.
//
// A remote may be broken or hostile (refusal.go): every exchange with it
// has a deadline, so that a remote that accepts connections and never
// answers delays no answer past AckTimeout and a read miss a few seconds;
// a refused push is told from a lost race and backed off like an outage;
// a pack beyond repo.Limits (derived from Config.MaxSize), or without the
// tip the remote advertised, is refused and deleted. Status says which
// problem keeps the remote from taking pastes, and why.
package gitsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
	"github.com/pasteur-dev/pasteur/gitsync/internal/transport"
	"github.com/pasteur-dev/pasteur/gitsync/internal/wal"
	"github.com/pasteur-dev/pasteur/paste"
)

// Store is a paste.Store on a Git repository. It is safe for concurrent use.
type Store struct {
	log      *slog.Logger
	branch   plumbing.ReferenceName
	tracking plumbing.ReferenceName // refs/remotes/origin/BRANCH: the remote's tip when last seen
	remote   *transport.Remote      // nil without a remote

	// writer is held by the one goroutine that moves the branch (Create, a
	// fetch), across network I/O. lastFetch is guarded by it.
	writer        chan struct{}
	lastFetch     time.Time
	fetchInterval time.Duration // minimum time between miss fetches

	mu     sync.Mutex // guards repo and closed; never held across network I/O
	repo   *repo.Repo
	closed bool

	// Removals seen by fetches (lifecycle.go): ids whose file left the
	// branch, and those not yet passed to onRemove.
	onRemove       func(ids []string)
	goneMu         sync.Mutex
	gone           map[string]bool
	pendingRemoved []string

	// The writer loop (writer.go).
	durable    bool // a repository on disk: pastes may be queued
	ackDisk    bool // Config.Ack is AckDisk: Creates are logged, pushed behind (behind.go)
	maxGroup   int
	ackTimeout time.Duration
	waiting    chan *request // Creates waiting for the writer loop
	// lastAnswered requests were answered by the loop at lastAnswer;
	// answerAt is when the write under way answered (the loop's own:
	// gather).
	lastAnswered         int
	lastAnswer, answerAt time.Time
	stop                 context.CancelFunc
	loopDone             chan struct{}
	state                remoteState
	counters             counters // the writer's totals, for metrics

	syncInterval time.Duration // between periodic fetches; 0: none
	purging      sync.Mutex    // one Purge at a time (purge.go)
	// removedSincePurge: a removal was committed or fetched since the
	// last purge began.
	removedSincePurge atomic.Bool
	expiry            *expiryIndex   // the pastes that expire (expiry.go)
	scanning          atomic.Bool    // the scan of expiry.go runs
	background        sync.WaitGroup // the sweeper, the purges, the committer, the completer

	// The write-ahead log (wal.go), nil without a repository on disk;
	// logged is guarded by mu.
	walMu  sync.Mutex // guards wal; taken before mu
	wal    *wal.Log
	logged logged
	kick   chan struct{} // asks the committer to commit the log
	// commitPace is the time a paste took in the log's last commit
	// (walcommit.go), set and read by the writer lock's holder.
	commitPace time.Duration
	// unwritten is the last round of the log whose pack was not
	// written (walcommit.go), set and read by the writer lock's holder.
	unwritten *unwrittenRound
	// With AckDisk and a remote (behind.go): pastes logged, committed
	// from the log, and on the remote, counted since Open; loopWaits is
	// when the writer loop began waiting for the writer lock (0: it does
	// not), which a push behind gives way to.
	loggedSeq, committedSeq, pushedSeq atomic.Int64
	loopWaits                          atomic.Bool

	// partial: the repository lacks objects of the tip or its history,
	// fetched by hash when needed (partial.go); complete.go ends it.
	partial atomic.Bool
	// movedWhilePartial: moves of the branch whose removals could not be
	// listed for lack of trees; guarded by s.mu.
	movedWhilePartial [][2]plumbing.Hash
	becamePartial     chan struct{} // markPartial tells completer
	completed         atomic.Int64  // commits fetched by completer
	repacking         atomic.Bool   // the completer is writing the packs into one
	completionMu      sync.Mutex
	completion        CompletionStatus
	steps             completionSteps
	purgeSent         func() // tests: called once a purge sent its history
}

var _ paste.Store = (*Store)(nil)

// ErrInUse: Open and Migrate refuse a directory that a Store or a
// Migrate, of this process or another, has open, without touching it.
// The lock is the file repo.LockFile in the directory (docs/FORMAT.md),
// released at Close, or by the kernel when its process dies.
var ErrInUse = repo.ErrInUse

var errClosed = fmt.Errorf("gitsync: store closed: %w", paste.ErrUnavailable)

// Open opens the repository in cfg.Dir, creating it when missing, and with
// a remote, reconciles with it: the local branch takes the remote's
// commits, and the remote gets local commits it lacks (commits that were
// never acknowledged, replayed onto the remote's when both moved). A Config
// that cannot work is a *ConfigError (see Config.Validate). A remote that
// cannot be reached is an error wrapping paste.ErrUnavailable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Remote != "" && cfg.Dial == nil {
		return nil, &ConfigError{Field: FieldDial, Err: errors.New("a remote needs a dial function")}
	}
	cfg.setDefaults()
	name := plumbing.NewBranchReferenceName(cfg.Branch)
	s := &Store{
		log:           cfg.Logger,
		branch:        name,
		tracking:      plumbing.NewRemoteReferenceName("origin", cfg.Branch),
		writer:        make(chan struct{}, 1),
		fetchInterval: cfg.FetchInterval,
		durable:       cfg.Dir != "",
		ackDisk:       cfg.Ack == AckDisk,
		maxGroup:      cfg.MaxGroup,
		ackTimeout:    cfg.AckTimeout,
		waiting:       make(chan *request, 1024),
		loopDone:      make(chan struct{}),
		state:         remoteState{retryMin: cfg.RetryMin, retryMax: cfg.RetryMax},
		onRemove:      cfg.OnRemove,
		gone:          make(map[string]bool),
		syncInterval:  cfg.SyncInterval,
		expiry:        newExpiryIndex(),
		kick:          make(chan struct{}, 1),
		becamePartial: make(chan struct{}, 1),
		steps:         cfg.completion,
		purgeSent:     cfg.purgeSent,
	}
	if s.steps.fill <= 0 {
		s.steps.fill = defaultFillStep
	}
	if s.steps.history <= 0 {
		s.steps.history = defaultHistoryStep
	}
	if s.steps.delay == 0 {
		s.steps.delay = completeDelay
	}
	if cfg.Remote != "" {
		var err error
		if s.remote, err = transport.New(cfg.Remote, transport.DialFunc(cfg.Dial), transport.Auth(cfg.Auth)); err != nil {
			return nil, fmt.Errorf("gitsync: remote: %w", err)
		}
	}
	var err error
	if s.repo, err = repo.Open(cfg.Dir, name); err != nil {
		return nil, fmt.Errorf("gitsync: open %s: %w", cfg.Dir, err)
	}
	s.repo.SetLimits(repo.LimitsFor(cfg.MaxSize))
	s.repo.KeepRecords(s.remote != nil) // for the thin packs of pushes
	s.partial.Store(s.repo.Partial())
	if s.durable {
		if err := s.openLog(ctx, cfg.Dir); err != nil {
			s.closeFiles()
			return nil, err
		}
	}
	if s.remote != nil {
		// A remote that never answers does not hold the start forever.
		rctx, cancel := context.WithTimeout(ctx, pushTimeout)
		if s.durable {
			// The local repository can serve: do not wait long.
			cancel()
			rctx, cancel = context.WithTimeout(ctx, 3*s.ackTimeout)
		}
		err := silent(rctx, s.reconcile(rctx))
		cancel()
		if err != nil {
			if !s.durable || transport.Permanent(err) {
				s.closeFiles()
				return nil, s.unavailable("reconcile with", err)
			}
			// The local repository serves; what it holds that the
			// remote lacks is pushed once the remote is back.
			s.failed(err)
			s.log.Warn("the remote cannot take pastes now; serving the local repository, pushing once it can",
				"remote", s.remote.Name(), "problem", problemOf(err), "err", err)
		} else {
			s.pushed()
		}
	}
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.loop(lctx)
	s.scanning.Store(!s.partial.Load()) // until the sweeper's scan ends
	s.background.Go(func() { s.sweep(lctx) })
	if s.wal != nil {
		s.background.Go(func() { s.committer(lctx) })
	}
	if s.remote != nil {
		s.background.Go(func() { s.completer(lctx) })
	}
	if cfg.PurgeInterval > 0 {
		s.background.Go(func() { s.purgeLoop(lctx, cfg.PurgeInterval) })
	}
	return s, nil
}

// Create implements paste.Store: it returns nil once p is durable. With a
// remote that is once p is pushed; with a repository on disk, also once it
// is committed and fsynced locally while the remote cannot be reached (it
// is then queued, and pushed when the remote is back, even after a
// restart). With a repository on disk and no remote, or with AckDisk,
// that is once p is in the write-ahead log (wal.go); another server
// sharing the remote reads it once it is pushed behind (behind.go). Without a repository on disk, a paste that
// cannot be pushed is an error wrapping paste.ErrUnavailable, and nothing
// of it stays. Pastes
// created concurrently share one commit and one push. When another writer
// pushed first, the commit is replayed onto the remote's (ErrExists if that
// writer took the id).
func (s *Store) Create(ctx context.Context, p *paste.Paste) error {
	if !paste.ValidID(p.ID) {
		return fmt.Errorf("gitsync: paste id %q: %w", p.ID, paste.ErrInvalid)
	}
	return s.submit(ctx, &request{p: p, done: make(chan error, 1)})
}

// submit hands r to the writer loop and waits for its answer.
func (s *Store) submit(ctx context.Context, r *request) error {
	r.arrived = time.Now()
	select {
	case <-s.loopDone:
		return errClosed
	default:
	}
	select {
	case s.waiting <- r:
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

// Get implements paste.Store. An id that is not valid is not found; a
// removed paste (a tombstone, a file this store saw deleted) or one whose
// expiry has passed is gone. On a miss with a remote, Get fetches (at most
// once per Config.FetchInterval, waiting for it when needed: a paste
// acknowledged anywhere before the miss is found; misses that wait for a
// fetch share it) and looks again; a remote that
// cannot be reached then is an error wrapping paste.ErrUnavailable. The
// paste's User, Comment and Created are left empty: they are in the
// history, not in the file.
func (s *Store) Get(ctx context.Context, id string) (*paste.Paste, error) {
	if !paste.ValidID(id) {
		return nil, fmt.Errorf("gitsync: paste id %q: %w", id, paste.ErrNotFound)
	}
	// A miss, or an object of a partial repository to fetch, waits for
	// the remote a short while at most, the writer lock and the fetch
	// interval included.
	fctx, cancel := context.WithTimeout(ctx, min(missTimeout, s.ackTimeout))
	defer cancel()
	p, err := s.lookupLazily(fctx, id)
	if s.remote == nil || !errors.Is(err, paste.ErrNotFound) {
		return p, err
	}
	if err := s.missFetch(ctx, fctx, time.Now()); err != nil {
		return nil, err
	}
	return s.lookupLazily(fctx, id)
}

// lookupLazily is lookup, fetching the objects it needs that a partial
// repository lacks.
func (s *Store) lookupLazily(ctx context.Context, id string) (p *paste.Paste, err error) {
	err = s.lazily(ctx, func() error {
		p, err = s.lookup(id)
		return err
	})
	return p, err
}

// missTimeout bounds what a read miss waits for the remote (at most
// ackTimeout).
const missTimeout = 3 * time.Second

// maxMissWait bounds how long a miss waits for the fetch interval to
// pass; a miss with longer to wait is a miss.
const maxMissWait = 2 * time.Second

// missFetch makes sure that a fetch started after missAt, when a read
// missed: it fetches, or waits for the one under way, or, within
// FetchInterval of the last one, waits for the interval to pass (up to
// maxMissWait) and fetches then. A paste acknowledged by another server
// before the miss is then found: it was pushed before that fetch began.
// Misses that wait together share one fetch. fctx bounds the whole (ctx
// is the caller's).
func (s *Store) missFetch(ctx, fctx context.Context, missAt time.Time) error {
	for {
		if err := s.lockWriter(fctx); err != nil {
			return s.unavailable("fetch", fmt.Errorf("the writer is busy with the remote: %w", err))
		}
		var rerr error
		wait := time.Duration(0)
		switch {
		case s.lastFetch.After(missAt):
			// Another miss (or the writer) fetched since.
		case !s.state.reachable():
			// The retry loop is on it; do not hold the branch for a
			// dial that will time out.
			rerr = errors.New(s.Status().LastError)
		default:
			if wait = s.fetchInterval - time.Since(s.lastFetch); wait > maxMissWait {
				wait = 0 // a long interval: the miss is a miss
				break
			} else if wait > 0 {
				break
			}
			rerr = silent(fctx, s.reconcile(fctx))
			switch {
			case rerr == nil:
				s.pushed()
			case fctx.Err() != nil && ctx.Err() == nil:
				// Our own short deadline says little of the remote,
				// which may be slow: the next push will tell.
			default:
				s.failed(rerr)
			}
		}
		s.unlockWriter()
		s.flushRemoved()
		if rerr != nil {
			return s.unavailable("fetch", rerr)
		}
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-fctx.Done():
			t.Stop()
			return s.unavailable("fetch", fmt.Errorf("waiting for the next fetch: %w", fctx.Err()))
		}
	}
}

// lookup reads paste id from the local branch.
func (s *Store) lookup(id string) (*paste.Paste, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if p, ok, err := s.lookupLogged(id); ok {
		return p, err
	}
	tip, err := s.repo.Ref(s.branch)
	if err != nil {
		return nil, fmt.Errorf("gitsync: read %s: %w", s.branch.Short(), err)
	}
	if tip.IsZero() {
		return nil, fmt.Errorf("gitsync: paste %s: %w", id, paste.ErrNotFound)
	}
	data, err := s.repo.Find(tip, id)
	if errors.Is(err, repo.ErrObjectTooLarge) {
		// Pushed by another server with a larger limit, or by anyone
		// with write access to the remote.
		return nil, fmt.Errorf("gitsync: paste %s is larger than this server serves: %w: %w", id, paste.ErrTooLarge, err)
	}
	if errors.Is(err, paste.ErrNotFound) && s.wasRemoved(id) {
		return nil, fmt.Errorf("gitsync: paste %s: removed from the branch: %w", id, paste.ErrGone)
	}
	if err != nil {
		return nil, err
	}
	p, err := paste.Unmarshal(id, data)
	if err == nil && p.ExpiredAt(time.Now()) {
		return nil, fmt.Errorf("gitsync: paste %s: %s: %w", id, paste.Expired, paste.ErrGone)
	}
	return p, err
}

// Close stops the writer loop (a push in progress is abandoned: its pastes
// are queued with a repository on disk, refused without), refuses pastes
// that still wait, and closes the repository.
func (s *Store) Close() error {
	s.stop()
	<-s.loopDone
	s.background.Wait()
	s.writer <- struct{}{}
	defer s.unlockWriter()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.closeFiles()
}

// closeFiles closes the write-ahead log and the repository, which lets
// the next Open have the directory.
func (s *Store) closeFiles() error {
	if s.wal != nil {
		s.wal.Close()
	}
	return s.repo.Close()
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
	return fmt.Errorf("gitsync: %s %s: %w: %w", op, s.remote.Name(), paste.ErrUnavailable, err)
}
