package gitsync

import (
	"context"
	"fmt"
	"sync"
	"testing"

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
