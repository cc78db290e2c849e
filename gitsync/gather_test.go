package gitsync

import (
	"testing"
	"time"
)

// TestGatherTakesTheAnswered: a group ends once as many requests are in
// it as the last write answered, when they all came back, and takes
// what waits whatever it expects.
func TestGatherTakesTheAnswered(t *testing.T) {
	s := &Store{maxGroup: 256, waiting: make(chan *request, 8)}
	s.lastAnswered, s.lastAnswer = 2, time.Now()
	first := &request{arrived: time.Now()}
	s.waiting <- &request{arrived: time.Now()}
	if g := s.gather(first); len(g) != 2 {
		t.Fatalf("group of %d, want 2", len(g))
	}

	// Two came during the last write (before its answer) and one was
	// answered: three expected, two here; the group ends at returnWait
	// with them.
	s.lastAnswer = time.Now().Add(time.Millisecond)
	s.lastAnswered = 1
	s.waiting <- &request{arrived: time.Now()}
	if g := s.gather(&request{arrived: time.Now()}); len(g) != 2 {
		t.Fatalf("group of %d, want 2", len(g))
	}

	// Answered long ago: nothing is expected; the linger takes what
	// waits.
	s.lastAnswered, s.lastAnswer = 64, time.Now().Add(-time.Second)
	for range 3 {
		s.waiting <- &request{arrived: time.Now()}
	}
	if g := s.gather(&request{arrived: time.Now()}); len(g) != 4 {
		t.Fatalf("group of %d, want 4", len(g))
	}
}
