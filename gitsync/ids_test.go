package gitsync

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// TestIDFilterAcrossWriters: a store whose id checks answer from its
// filter of ids (made by its expiry scan) refuses an id another server
// pushed once it fetched it, and a removed one, as it refuses its own.
// It answers at disk: a paste is answered on the id check alone (with a
// remote answering at push, the commit's tree write would refuse a taken
// id the check let through).
func TestIDFilterAcrossWriters(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, _ := d.NewRepo(t, "pastes.git", true)
	s1 := open(t, url, eager)
	for i := range 20 {
		mustCreate(t, s1, &paste.Paste{ID: fmt.Sprintf("seed%02dxyz", i), Contents: []byte("seed")})
	}
	s2 := open(t, url, eager, func(c *Config) { c.Ack = AckDisk })
	// Its first fetch is partial: the scan, and the filter, come once the
	// history is complete.
	names := func() int {
		s2.mu.Lock()
		defer s2.mu.Unlock()
		n, _ := s2.repo.IDFilter()
		return n
	}
	waitFor(t, 20*time.Second, func() bool { return names() >= 20 })

	ctx := context.Background()
	exists := func(s *Store, id string) {
		t.Helper()
		if err := s.Create(ctx, &paste.Paste{ID: id, Contents: []byte("again")}); !errors.Is(err, paste.ErrExists) {
			t.Fatalf("Create %s again: %v, want ErrExists", id, err)
		}
	}
	exists(s2, "seed03xyz")
	mustCreate(t, s2, &paste.Paste{ID: "mine1abcd", Contents: []byte("mine")})
	exists(s2, "mine1abcd")

	// Pushed by the other server, fetched by a read.
	mustCreate(t, s1, &paste.Paste{ID: "theirs1ab", Contents: []byte("theirs")})
	mustGet(t, s2, "theirs1ab")
	exists(s2, "theirs1ab")

	// Removed by the other server: its tombstone keeps the id.
	if err := s1.Remove(ctx, "seed07xyz", paste.Deleted); err != nil {
		t.Fatal(err)
	}
	// A push of the second store's is refused: it fetches the removal.
	mustCreate(t, s2, &paste.Paste{ID: "sync1abcd", Contents: []byte("sync")})
	waitFor(t, 20*time.Second, func() bool { st := s2.Status(); return !st.Unpushed && st.Queued == 0 })
	if _, err := s2.Get(ctx, "seed07xyz"); err == nil {
		t.Fatal("a removed paste read back")
	}
	if err := s2.Create(ctx, &paste.Paste{ID: "seed07xyz", Contents: []byte("again")}); err == nil {
		t.Fatal("a removed id taken again")
	}
	mustCreate(t, s2, &paste.Paste{ID: "fresh1abc", Contents: []byte("fresh")})
}

// TestIDFilterMadeAgain: once its filter of ids is dropped (as a fetch
// too large for it to follow drops it), the store makes it again in the
// background, says so in Status, and refuses the taken ids throughout.
func TestIDFilterMadeAgain(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, _ := d.NewRepo(t, "pastes.git", true)
	s := open(t, url, eager)
	ctx := context.Background()
	var taken []string
	for i := range 30 {
		id := fmt.Sprintf("taken%02dxyz", i)
		taken = append(taken, id)
		mustCreate(t, s, &paste.Paste{ID: id, Contents: []byte("taken")})
	}
	waitFor(t, 20*time.Second, func() bool { return s.Status().IDFilter })
	exists := func(id string) {
		t.Helper()
		if err := s.Create(ctx, &paste.Paste{ID: id, Contents: []byte("again")}); !errors.Is(err, paste.ErrExists) {
			t.Fatalf("Create %s again: %v, want ErrExists", id, err)
		}
	}

	// The scan at start installed the filter in use; the repository is
	// complete, so no other scan runs: a filter again is rescanIDs'.
	s.mu.Lock()
	s.repo.DropIDs()
	dropped := !s.repo.HasIDFilter()
	s.mu.Unlock()
	if !dropped {
		t.Fatal("the filter kept after DropIDs")
	}
	// Meanwhile (without the filter, or with it again) taken ids stay
	// taken, and new pastes go in.
	exists(taken[0])
	mustCreate(t, s, &paste.Paste{ID: "during1ab", Contents: []byte("during")})
	waitFor(t, 20*time.Second, func() bool { return s.Status().IDFilter })
	for _, id := range append(taken, "during1ab") {
		exists(id)
	}
	mustCreate(t, s, &paste.Paste{ID: "after1abc", Contents: []byte("after")})
	exists("after1abc")
}
