package netstack

import (
	"testing"
	"time"
)

// TestDeadlineMoves moves a deadline later, earlier, into the past and
// away, and checks when it reports passed.
func TestDeadlineMoves(t *testing.T) {
	d := deadline{wake: make(chan struct{}, 1)}
	defer d.stop()
	waitPassed := func(within time.Duration) bool {
		end := time.Now().Add(within)
		for time.Now().Before(end) {
			if d.passed() {
				return true
			}
			time.Sleep(time.Millisecond)
		}
		return d.passed()
	}

	d.set(time.Now().Add(20 * time.Millisecond))
	d.set(time.Now().Add(time.Hour)) // later
	if waitPassed(100 * time.Millisecond) {
		t.Fatal("a deadline moved an hour ahead passed within 100 ms")
	}
	d.set(time.Now().Add(10 * time.Millisecond)) // earlier
	if !waitPassed(5 * time.Second) {
		t.Fatal("a deadline 10 ms ahead did not pass within 5 s")
	}
	// The timer marks the deadline passed, then leaves the token: wait
	// for it rather than look once.
	select {
	case <-d.wake:
	case <-time.After(5 * time.Second):
		t.Error("no wake-up token within 5 s of the deadline passing")
	}
	d.set(time.Time{})
	if d.passed() {
		t.Fatal("no deadline, yet passed")
	}
	d.set(time.Now().Add(-time.Second))
	if !d.passed() {
		t.Fatal("a deadline in the past has not passed")
	}
	d.set(time.Now().Add(time.Hour))
	if d.passed() {
		t.Fatal("a deadline moved from the past to an hour ahead has passed")
	}
	d.set(time.Time{})
	if waitPassed(50 * time.Millisecond) {
		t.Fatal("a deadline taken away passed")
	}
}
