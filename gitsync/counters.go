package gitsync

import (
	"sync"
	"time"
)

// Counters are running totals of the writer's work since Open, for
// metrics: a rate of CommitSeconds over a rate of Commits is the mean
// commit time, Pastes over Commits the mean group. Without a remote, a
// group written to the write-ahead log counts as a commit, its fdatasync
// as its commit time.
type Counters struct {
	Commits       uint64  `json:"commits"`        // commits of pastes (one per group)
	Pastes        uint64  `json:"pastes"`         // pastes those commits hold
	CommitSeconds float64 `json:"commit_seconds"` // spent committing them, fsync included
	Pushes        uint64  `json:"pushes"`         // pushes of a group that the remote took
	PushSeconds   float64 `json:"push_seconds"`   // spent on those pushes
	// Syncs: the periodic fetches of the remote (Config.SyncInterval),
	// whether they succeeded or not.
	Syncs uint64 `json:"syncs"`
	// In a partial repository (partial.go): objects fetched by hash, and
	// the time spent fetching them.
	LazyObjects uint64  `json:"lazy_objects,omitempty"`
	LazySeconds float64 `json:"lazy_seconds,omitempty"`
}

// counters accumulates Counters; it is safe for concurrent use.
type counters struct {
	mu sync.Mutex
	c  Counters
}

// committed records a commit of n pastes that took d.
func (c *counters) committed(n int, d time.Duration) {
	if n == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.Commits++
	c.c.Pastes += uint64(n)
	c.c.CommitSeconds += d.Seconds()
}

// pushed records a push of a group that took d.
func (c *counters) pushed(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.Pushes++
	c.c.PushSeconds += d.Seconds()
}

// synced records a periodic fetch of the remote.
func (c *counters) synced() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.Syncs++
}

// lazy records n objects fetched by hash, in d.
func (c *counters) lazy(n int, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.LazyObjects += uint64(n)
	c.c.LazySeconds += d.Seconds()
}

// Counters returns the totals so far.
func (s *Store) Counters() Counters {
	s.counters.mu.Lock()
	defer s.counters.mu.Unlock()
	return s.counters.c
}
