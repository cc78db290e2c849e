package gitsync

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// TestSettleDuringCreates: settling while pastes are created, logged and
// committed behind the log loses none of them, before or after a reopen;
// git fsck passes; a closed store settles to nothing.
func TestSettleDuringCreates(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.Create(context.Background(), &paste.Paste{ID: fmt.Sprintf("settle%03d", i), Contents: []byte(fmt.Sprint(i))})
		})
	}
	done := make(chan struct{})
	settled := make(chan error, 1)
	go func() {
		var err error
		for err == nil {
			select {
			case <-done:
				settled <- nil
				return
			default:
			}
			err = s.Settle()
		}
		settled <- err
	}()
	wg.Wait()
	close(done)
	if err := <-settled; err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if err := s.Settle(); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		for i := range n {
			if p := mustGet(t, s, fmt.Sprintf("settle%03d", i)); string(p.Contents) != fmt.Sprint(i) {
				t.Errorf("settle%03d: %q", i, p.Contents)
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(); err != nil {
		t.Errorf("Settle after Close: %v", err)
	}
	gitOut(t, dir, "fsck", "--strict")
	s, err = Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
}

// TestSettleDuringTraffic: settles while pastes are created, read back
// and removed, on a repository alone and with a remote pushed behind
// (thin packs of pushes, the packs' indexes read back after each settle):
// every paste is as its last answer left it, before and after a reopen
// (or on the remote). Bounded: 120 creates, a fifth of them removed.
func TestSettleDuringTraffic(t *testing.T) {
	for _, remote := range []bool{false, true} {
		t.Run(fmt.Sprintf("remote=%v", remote), func(t *testing.T) {
			dir := t.TempDir()
			var s *Store
			var err error
			var remoteDir string
			if remote {
				d := gittest.StartDaemon(t)
				var url string
				url, remoteDir = d.NewRepo(t, "pastes.git", true)
				s, err = openDir(t, url, dir, ackDisk)
			} else {
				s, err = Open(context.Background(), Config{Dir: dir})
			}
			if err != nil {
				t.Fatal(err)
			}
			const writers, each = 4, 30
			id := func(w, i int) string { return fmt.Sprintf("traffic%d%02d", w, i) }
			removed := func(i int) bool { return i%5 == 0 }
			var made sync.Map
			var wg sync.WaitGroup
			errs := make(chan error, writers*each*2)
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						ctx := context.Background()
						if err := s.Create(ctx, &paste.Paste{ID: id(w, i), Contents: []byte(id(w, i))}); err != nil {
							errs <- err
							continue
						}
						made.Store(id(w, i), true)
						if removed(i) {
							if err := s.Remove(ctx, id(w, i), paste.Deleted); err != nil {
								errs <- fmt.Errorf("remove %s: %w", id(w, i), err)
							}
							made.Delete(id(w, i))
						}
					}
				})
			}
			done := make(chan struct{})
			var bg sync.WaitGroup
			bg.Go(func() { // reads of what is made, until the writers end
				for {
					select {
					case <-done:
						return
					default:
					}
					made.Range(func(k, _ any) bool {
						p, err := s.Get(context.Background(), k.(string))
						if err == nil && string(p.Contents) != k.(string) {
							errs <- fmt.Errorf("%s read back as %q", k, p.Contents)
						}
						return true
					})
				}
			})
			bg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					if err := s.Settle(); err != nil {
						errs <- fmt.Errorf("settle: %w", err)
						return
					}
				}
			})
			wg.Wait()
			close(done)
			bg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			check := func(s *Store) {
				t.Helper()
				for w := range writers {
					for i := range each {
						p, err := s.Get(context.Background(), id(w, i))
						switch {
						case removed(i) && !errors.Is(err, paste.ErrGone) && !errors.Is(err, paste.ErrNotFound):
							t.Errorf("%s, removed: %v", id(w, i), err)
						case !removed(i) && (err != nil || string(p.Contents) != id(w, i)):
							t.Errorf("%s: %v", id(w, i), err)
						}
					}
				}
			}
			check(s)
			if remote {
				drained(t, s)
				got := onRemote(t, remoteDir)
				for w := range writers {
					for i := range each {
						if got[id(w, i)] != 1 {
							t.Errorf("%s is %d times on the remote", id(w, i), got[id(w, i)])
						}
					}
				}
				gittest.Fsck(t, remoteDir)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			gitOut(t, dir, "fsck", "--strict")
			s, err = Open(context.Background(), Config{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			check(s)
		})
	}
}
