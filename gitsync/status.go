package gitsync

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/repo"
)

// contendedPause is the least pause before pushing again after losing the
// race to other writers maxAttempts times.
const contendedPause = 50 * time.Millisecond

// Status is the state of the remote and of the queue, for health checks.
type Status struct {
	Remote    string `json:"remote"`    // the URL, without credentials
	Reachable bool   `json:"reachable"` // the last exchange with it succeeded
	Queueing  bool   `json:"queueing"`  // pastes are accepted (queued) while it is unreachable
	Ack       string `json:"ack"`       // when a Create is answered: "push" or "disk" (Config.Ack)
	Queued    int    `json:"queued"`    // pastes acknowledged since start that wait for a push
	// Logged: with AckDisk, of the Queued pastes, those answered from the
	// write-ahead log that still wait for their commit.
	Logged    int       `json:"logged,omitempty"`
	Unpushed  bool      `json:"unpushed"`             // the local branch holds commits the remote lacks
	LastPush  time.Time `json:"last_push,omitzero"`   // the last successful reconcile or push
	LastError string    `json:"last_error,omitempty"` // why the remote was last unreachable, in its own words when it refused
	Problem   string    `json:"problem,omitempty"`    // while not Reachable: ProblemUnreachable, ProblemRefused or ProblemBadPack
	NextTry   time.Time `json:"next_try,omitzero"`    // when the queue is pushed next
	// Scanning: the scan at start of the pastes that expire runs (it
	// reads every paste: a minute or more at a million pastes).
	Scanning bool `json:"scanning,omitempty"`
	// IDFilter: the id checks of new pastes answer from the filter of ids
	// in memory; false while it is made (at start, and again after a
	// large fetch dropped it), when each reads its leaf.
	IDFilter bool `json:"id_filter"`
	// Completion: while the repository is partial (its first fetch was
	// the remote's tip alone), how far the rest of it arrived.
	Completion *CompletionStatus `json:"completion,omitempty"`
}

// What keeps the remote from taking pastes (Status.Problem). Each is
// backed off alike.
const (
	// ProblemUnreachable: it cannot be reached, or does not answer in
	// time.
	ProblemUnreachable = "unreachable"
	// ProblemRefused: it refuses the push, and says why (a hook, branch
	// protection, a quota): LastError.
	ProblemRefused = "refused"
	// ProblemBadPack: it sent a pack that pasteur refused: larger than
	// any paste could make, or lacking the commit it advertised.
	ProblemBadPack = "bad pack"
)

// problemOf classifies err, from a remote that could not take the queue.
func problemOf(err error) string {
	switch {
	case errors.Is(err, repo.ErrRefusedPack):
		return ProblemBadPack
	case errors.Is(err, errRefused) && !errors.Is(err, errRejected):
		return ProblemRefused
	}
	return ProblemUnreachable
}

// remoteState is what the writer loop knows of the remote, and when it
// pushes the queue next. It is safe for concurrent use.
type remoteState struct {
	retryMin, retryMax time.Duration // the bounds of the backoff

	mu       sync.Mutex
	down     bool // the remote could not be reached
	retry    bool // a push of the queue is due at nextTry
	queued   int
	lastPush time.Time
	lastErr  string
	problem  string        // while down
	delay    time.Duration // the current backoff
	nextTry  time.Time
}

// reachable reports whether the remote is worth trying now.
func (r *remoteState) reachable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.down
}

// addQueued records n pastes acknowledged without a push.
func (r *remoteState) addQueued(n int) {
	r.mu.Lock()
	r.queued += n
	r.mu.Unlock()
}

// failed records at now that the remote could not take the queue, and
// backs off, whether it cannot be reached, refuses the push, or sent a
// pack that was refused. A push that other writers kept beating
// (errRejected after maxAttempts) reached the remote: it stays reachable,
// and the queue is pushed again after a short random pause, so that the
// writers stop colliding. It reports whether the state changed (another
// problem, or another reason), which is worth a line in the log.
func (r *remoteState) failed(err error, now time.Time) (changed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retry = true
	msg := err.Error()
	if errors.Is(err, errRejected) {
		changed = r.down || r.lastErr != msg
		r.lastErr = msg
		r.down = false
		r.problem = ""
		r.nextTry = now.Add(contendedPause + rand.N(contendedPause))
		return changed
	}
	problem := problemOf(err)
	changed = !r.down || r.problem != problem || r.lastErr != msg
	r.lastErr, r.problem = msg, problem
	switch {
	case !r.down:
		r.delay = r.retryMin
	case r.delay < r.retryMax:
		r.delay = min(2*r.delay, r.retryMax)
	}
	r.down = true
	r.nextTry = now.Add(r.delay)
	return changed
}

// pushed records a successful reconcile or push at now: nothing is queued.
func (r *remoteState) pushed(now time.Time) {
	r.mu.Lock()
	r.down = false
	r.retry = false
	r.queued = 0
	r.lastPush = now
	r.lastErr = ""
	r.problem = ""
	r.delay = 0
	r.mu.Unlock()
}

// retryLater makes a push of the queue due after the current backoff
// (at least retryMin) from now, the backoff unchanged.
func (r *remoteState) retryLater(now time.Time) {
	r.mu.Lock()
	r.retry = true
	r.nextTry = now.Add(max(r.delay, r.retryMin))
	r.mu.Unlock()
}

// retryIn returns how long after now the queue is pushed next, and whether
// a push is due at all.
func (r *remoteState) retryIn(now time.Time) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.retry {
		return 0, false
	}
	return max(r.nextTry.Sub(now), 0), true
}

// backoff is the current pause between pushes of the queue.
func (r *remoteState) backoff() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delay
}

// status fills the fields of st that r knows.
func (r *remoteState) status(st *Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st.Reachable = !r.down
	st.Problem = r.problem
	st.Queued = r.queued
	st.LastPush = r.lastPush
	st.LastError = r.lastErr
	if r.retry {
		st.NextTry = r.nextTry
	}
}

// Status reports the state of the remote and of the queue; its zero value
// (Remote "") without a remote.
func (s *Store) Status() Status {
	if s.remote == nil {
		return Status{}
	}
	st := Status{Remote: s.remote.Name(), Queueing: s.durable, Ack: AckPush.String()}
	s.state.status(&st)
	if s.pushesBehind() {
		st.Ack = AckDisk.String()
		unpushed, logged := s.loggedUnpushed()
		st.Queued += unpushed
		st.Logged = logged
	}
	s.mu.Lock()
	if !s.closed {
		local, err1 := s.repo.Ref(s.branch)
		tracking, err2 := s.repo.Ref(s.tracking)
		st.Unpushed = err1 == nil && err2 == nil && local != tracking && !local.IsZero()
		st.IDFilter = s.repo.HasIDFilter()
	}
	s.mu.Unlock()
	st.Scanning = s.scanning.Load()
	if c := s.Completion(); c.Partial || c.Repacking {
		st.Completion = &c
	}
	return st
}

// Reachable reports what Status().Reachable does (there is a remote and
// the last exchange with it succeeded) without the rest of Status: no
// lock of the repository, no read of its refs. A Router asks it at every
// new id.
func (s *Store) Reachable() bool { return s.remote != nil && s.state.reachable() }

// failed records that the remote could not take the queue because of err,
// and reports whether that changed the state.
func (s *Store) failed(err error) bool { return s.state.failed(err, time.Now()) }

// pushed records a successful reconcile or push.
func (s *Store) pushed() { s.state.pushed(time.Now()) }

// queued records n pastes acknowledged without a push, because of err (nil:
// the remote was already known to be down).
func (s *Store) queued(n int, err error) {
	s.state.addQueued(n)
	if err != nil {
		level := slog.LevelDebug
		if s.failed(err) {
			level = slog.LevelWarn
		}
		s.log.Log(context.Background(), level, "the push did not land; pastes are committed locally and queued",
			"remote", s.remote.Name(), "pastes", n, "problem", problemOf(err), "err", err)
	}
}
