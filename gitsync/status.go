package gitsync

import (
	"errors"
	"math/rand/v2"
	"time"
)

// contendedPause is the least pause before pushing again after losing the
// race to other writers maxAttempts times.
const contendedPause = 50 * time.Millisecond

// Status is the state of the sync with the remote, for health checks.
type Status struct {
	Remote    string    `json:"remote"`               // the URL, without credentials
	Reachable bool      `json:"reachable"`            // the last exchange with it succeeded
	Queueing  bool      `json:"queueing"`             // pastes are accepted (queued) while it is unreachable
	Queued    int       `json:"queued"`               // pastes acknowledged since start that wait for a push
	Unpushed  bool      `json:"unpushed"`             // the local branch holds commits the remote lacks
	LastPush  time.Time `json:"last_push,omitzero"`   // the last successful sync or push
	LastError string    `json:"last_error,omitempty"` // why the remote was last unreachable
	NextTry   time.Time `json:"next_try,omitzero"`    // when the queue is pushed next
}

// remoteState is what the writer loop knows of the remote; Store.stateMu
// guards it.
type remoteState struct {
	down     bool // the remote could not be reached
	retry    bool // a push of the queue is due at nextTry
	queued   int
	lastPush time.Time
	lastErr  string
	delay    time.Duration // the current backoff
	nextTry  time.Time
}

// Status reports the state of the sync with the remote; its zero value
// (Remote "") without one.
func (s *Store) Status() Status {
	if s.remote == nil {
		return Status{}
	}
	s.stateMu.Lock()
	st := Status{
		Remote:    s.remote.name,
		Reachable: !s.state.down,
		Queueing:  s.durable,
		Queued:    s.state.queued,
		LastPush:  s.state.lastPush,
		LastError: s.state.lastErr,
	}
	if s.state.retry {
		st.NextTry = s.state.nextTry
	}
	s.stateMu.Unlock()
	s.mu.Lock()
	if !s.closed {
		local, err1 := s.repo.ref(s.branch)
		tracking, err2 := s.repo.ref(s.remote.tracking)
		st.Unpushed = err1 == nil && err2 == nil && local != tracking && !local.IsZero()
	}
	s.mu.Unlock()
	return st
}

// reachable reports whether the remote is worth trying now.
func (s *Store) reachable() bool {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return !s.state.down
}

// queued records n pastes acknowledged without a push, because of err (nil:
// the remote was already known to be down).
func (s *Store) queued(n int, err error) {
	s.stateMu.Lock()
	s.state.queued += n
	s.stateMu.Unlock()
	if err != nil {
		s.failed(err)
		s.log.Warn("gitsync: the push did not land; pastes are committed locally and queued",
			"remote", s.remote.name, "pastes", n, "err", err)
	}
}

// failed records that the remote could not be reached, and backs off. A
// push that other writers kept beating (errRejected after maxAttempts)
// reached the remote: it stays reachable, and the queue is pushed again
// after a short random pause, so that the writers stop colliding.
func (s *Store) failed(err error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	s.state.retry = true
	s.state.lastErr = err.Error()
	if errors.Is(err, errRejected) {
		s.state.down = false
		s.state.nextTry = time.Now().Add(contendedPause + rand.N(contendedPause))
		return
	}
	switch {
	case !s.state.down:
		s.state.delay = s.retryMin
	case s.state.delay < s.retryMax:
		s.state.delay = min(2*s.state.delay, s.retryMax)
	}
	s.state.down = true
	s.state.nextTry = time.Now().Add(s.state.delay)
}

// pushed records a successful sync: nothing is queued.
func (s *Store) pushed() {
	s.stateMu.Lock()
	s.state.down = false
	s.state.retry = false
	s.state.queued = 0
	s.state.lastPush = time.Now()
	s.state.lastErr = ""
	s.state.delay = 0
	s.stateMu.Unlock()
}

// retryIn returns how long until the next push of the queue, and whether
// one is due at all.
func (s *Store) retryIn() (time.Duration, bool) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if !s.state.retry {
		return 0, false
	}
	return max(time.Until(s.state.nextTry), 0), true
}

func (s *Store) retryDelay() time.Duration {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.state.delay
}
