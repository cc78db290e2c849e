package gitsync

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/wal"
)

// TestGatherTakesTheAnswered: a group ends once as many requests are in
// it as the last write answered, when they all came back, and takes
// what waits whatever it expects.
func TestGatherTakesTheAnswered(t *testing.T) {
	s := &Store{maxGroup: 256, waiting: make(chan *request, 8)}
	s.lastAnswered, s.lastAnswer = 2, time.Now()
	wantGroup(t, s, 1, 2)

	// Two came during the last write (before its answer) and one was
	// answered: three expected, two here; the group ends at returnWait
	// with them.
	s.lastAnswer = time.Now().Add(time.Millisecond)
	s.lastAnswered = 1
	wantGroup(t, s, 1, 2)

	// Answered long ago: nothing is expected; the linger takes what
	// waits.
	s.lastAnswered, s.lastAnswer = 64, time.Now().Add(-time.Second)
	wantGroup(t, s, 3, 4)
}

// TestGatherLoggedTakesTheAnswered: a group the log takes ends once the
// requests the last write answered are back, waits for those missing
// (up to logReturnWait), and takes what waits at once when nobody is
// expected.
func TestGatherLoggedTakesTheAnswered(t *testing.T) {
	l, _, err := wal.Open(filepath.Join(t.TempDir(), walFile))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := &Store{maxGroup: 256, waiting: make(chan *request, 8), wal: l}
	if !s.logging() {
		t.Fatal("a store with a log and no remote does not log")
	}
	s.lastAnswered, s.lastAnswer = 2, time.Now()
	wantGroup(t, s, 1, 2)

	// Five answered, two back: the group ends at logReturnWait with
	// them.
	s.lastAnswered, s.lastAnswer = 5, time.Now()
	wantGroup(t, s, 1, 2)

	// Answered long ago: nothing is expected; what waits is taken.
	s.lastAnswered, s.lastAnswer = 64, time.Now().Add(-time.Second)
	wantGroup(t, s, 3, 4)
}

// wantGroup queues n requests, gathers a group from one more, and fails
// t unless the group holds want.
func wantGroup(t *testing.T, s *Store, n, want int) {
	t.Helper()
	for range n {
		s.waiting <- &request{arrived: time.Now()}
	}
	if g := s.gather(&request{arrived: time.Now()}); len(g) != want {
		t.Fatalf("group of %d, want %d", len(g), want)
	}
}
