package gitsync

import (
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

// contendedPause is the least pause before pushing again after losing the
// race to other writers maxAttempts times.
const contendedPause = 50 * time.Millisecond

// Status is the state of the remote and of the queue, for health checks.
type Status struct {
	Remote    string    `json:"remote"`               // the URL, without credentials
	Reachable bool      `json:"reachable"`            // the last exchange with it succeeded
	Queueing  bool      `json:"queueing"`             // pastes are accepted (queued) while it is unreachable
	Queued    int       `json:"queued"`               // pastes acknowledged since start that wait for a push
	Unpushed  bool      `json:"unpushed"`             // the local branch holds commits the remote lacks
	LastPush  time.Time `json:"last_push,omitzero"`   // the last successful reconcile or push
	LastError string    `json:"last_error,omitempty"` // why the remote was last unreachable
	NextTry   time.Time `json:"next_try,omitzero"`    // when the queue is pushed next
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

// failed records at now that the remote could not be reached, and backs
// off. A push that other writers kept beating (errRejected after
// maxAttempts) reached the remote: it stays reachable, and the queue is
// pushed again after a short random pause, so that the writers stop
// colliding.
func (r *remoteState) failed(err error, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retry = true
	r.lastErr = err.Error()
	if errors.Is(err, errRejected) {
		r.down = false
		r.nextTry = now.Add(contendedPause + rand.N(contendedPause))
		return
	}
	switch {
	case !r.down:
		r.delay = r.retryMin
	case r.delay < r.retryMax:
		r.delay = min(2*r.delay, r.retryMax)
	}
	r.down = true
	r.nextTry = now.Add(r.delay)
}

// pushed records a successful reconcile or push at now: nothing is queued.
func (r *remoteState) pushed(now time.Time) {
	r.mu.Lock()
	r.down = false
	r.retry = false
	r.queued = 0
	r.lastPush = now
	r.lastErr = ""
	r.delay = 0
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
	st := Status{Remote: s.remote.Name(), Queueing: s.durable}
	s.state.status(&st)
	s.mu.Lock()
	if !s.closed {
		local, err1 := s.repo.Ref(s.branch)
		tracking, err2 := s.repo.Ref(s.tracking)
		st.Unpushed = err1 == nil && err2 == nil && local != tracking && !local.IsZero()
	}
	s.mu.Unlock()
	return st
}

// failed records that the remote could not be reached because of err.
func (s *Store) failed(err error) { s.state.failed(err, time.Now()) }

// pushed records a successful reconcile or push.
func (s *Store) pushed() { s.state.pushed(time.Now()) }

// queued records n pastes acknowledged without a push, because of err (nil:
// the remote was already known to be down).
func (s *Store) queued(n int, err error) {
	s.state.addQueued(n)
	if err != nil {
		s.failed(err)
		s.log.Warn("the push did not land; pastes are committed locally and queued",
			"remote", s.remote.Name(), "pastes", n, "err", err)
	}
}
