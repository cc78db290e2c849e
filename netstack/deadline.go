package netstack

import (
	"sync"
	"sync/atomic"
	"time"
)

// deadline is one direction's deadline of a conn: one timer, made on first
// use and moved after that, that marks the deadline passed and leaves a
// token in wake for the goroutine that may be waiting.
type deadline struct {
	wake chan struct{}
	over atomic.Bool // the deadline has passed

	mu    sync.Mutex
	at    time.Time // zero: none
	timer *time.Timer
}

// passed reports whether the deadline has passed.
func (d *deadline) passed() bool { return d.over.Load() }

// set moves the deadline to t; the zero t means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at = t
	if t.IsZero() {
		d.over.Store(false)
		if d.timer != nil {
			d.timer.Stop()
		}
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		if d.timer != nil {
			d.timer.Stop()
		}
		d.over.Store(true)
		wake(d.wake)
		return
	}
	d.over.Store(false)
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
}

// fire runs when the timer goes off. A deadline moved meanwhile is left
// alone: the timer may have gone off just before set moved it.
func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.at.IsZero() && !time.Now().Before(d.at) {
		d.over.Store(true)
		wake(d.wake)
	}
}

// stop stops the timer for good.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
	}
}
