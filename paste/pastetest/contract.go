package pastetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
)

// TestStore checks that a paste.Store keeps the interface's contract:
// what Create stored, Get returns field for field and byte for byte; an id
// is taken once; misses and bad ids fail with the domain's errors; the
// store keeps its own copies; concurrent use is safe. Each subtest calls
// open for a new, empty store, which open closes in t.Cleanup if it must.
// Call it from a test of each implementation:
//
//	func TestContract(t *testing.T) {
//		pastetest.TestStore(t, func(t *testing.T) paste.Store { return newStore(t) })
//	}
func TestStore(t *testing.T, open func(t *testing.T) paste.Store) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, paste.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Missing", testMissing},
		{"Exists", testExists},
		{"InvalidID", testInvalidID},
		{"NotText", testNotText},
		{"OwnCopies", testOwnCopies},
		{"Concurrent", testConcurrent},
		{"Expired", testExpired},
		{"Remove", testRemove},
		{"Burn", testBurn},
		{"BurnOnce", testBurnOnce},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

// samples are pastes that exercise every field and the id forms: one
// character, the longest, upper case as the original wrote them.
func samples() []*paste.Paste {
	created := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	return []*paste.Paste{
		{ID: "k3x9q2m7a1b0c", Contents: []byte("package main\r\n\tfunc main() {}\n🦀 <&> \"'\x00"), Language: "go", User: "ann", Comment: "a fix", Created: created},
		{ID: "a", Contents: []byte("one character id")},
		{ID: "X1z", Contents: []byte("the original's ids"), Created: created.Add(time.Hour)},
		{ID: strings.Repeat("z", paste.MaxIDLength), Contents: []byte("v1.AAAA.BBBB"), Encrypted: true, User: "bob", Comment: "encrypted"},
		{ID: "big", Contents: bytes.Repeat([]byte("0123456789abcdef\n"), paste.DefaultMaxSize/17)},
		{ID: "life", Contents: []byte("expires, burns"), Expires: time.Now().Add(time.Hour).Truncate(time.Second), Burn: true, DeleteHash: paste.HashToken("t")},
	}
}

// same reports how got differs from want, or "" when it does not.
func same(got, want *paste.Paste) string {
	switch {
	case got == nil:
		return "nil paste"
	case got.ID != want.ID:
		return fmt.Sprintf("id %q, want %q", got.ID, want.ID)
	case !bytes.Equal(got.Contents, want.Contents):
		return fmt.Sprintf("contents %.40q (%d bytes), want %.40q (%d bytes)", got.Contents, len(got.Contents), want.Contents, len(want.Contents))
	case got.Encrypted != want.Encrypted:
		return fmt.Sprintf("encrypted %v, want %v", got.Encrypted, want.Encrypted)
	case got.Language != want.Language:
		return fmt.Sprintf("language %q, want %q", got.Language, want.Language)
	case got.User != want.User:
		return fmt.Sprintf("user %q, want %q", got.User, want.User)
	case got.Comment != want.Comment:
		return fmt.Sprintf("comment %q, want %q", got.Comment, want.Comment)
	case !got.Created.Equal(want.Created):
		return fmt.Sprintf("created %v, want %v", got.Created, want.Created)
	case !got.Expires.Equal(want.Expires):
		return fmt.Sprintf("expires %v, want %v", got.Expires, want.Expires)
	case got.Burn != want.Burn:
		return fmt.Sprintf("burn %v, want %v", got.Burn, want.Burn)
	case got.DeleteHash != want.DeleteHash:
		return fmt.Sprintf("delete hash %q, want %q", got.DeleteHash, want.DeleteHash)
	}
	return ""
}

func create(t *testing.T, s paste.Store, p *paste.Paste) {
	t.Helper()
	if err := s.Create(t.Context(), p); err != nil {
		t.Fatalf("create %s: %v", p.ID, err)
	}
}

func get(t *testing.T, s paste.Store, id string) *paste.Paste {
	t.Helper()
	p, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return p
}

func testRoundTrip(t *testing.T, s paste.Store) {
	ps := samples()
	for _, p := range ps {
		create(t, s, p)
	}
	for _, want := range ps {
		if d := same(get(t, s, want.ID), want); d != "" {
			t.Errorf("paste %.13s: %s", want.ID, d)
		}
	}
}

func testMissing(t *testing.T, s paste.Store) {
	if _, err := s.Get(t.Context(), "nosuchpaste"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("get from an empty store: %v, want ErrNotFound", err)
	}
	create(t, s, &paste.Paste{ID: "abc", Contents: []byte("x")})
	for _, id := range []string{"nosuchpaste", "ab", "abcd"} {
		if _, err := s.Get(t.Context(), id); !errors.Is(err, paste.ErrNotFound) {
			t.Errorf("get %s: %v, want ErrNotFound", id, err)
		}
	}
}

func testExists(t *testing.T, s paste.Store) {
	first := &paste.Paste{ID: "taken", Contents: []byte("first")}
	create(t, s, first)
	err := s.Create(t.Context(), &paste.Paste{ID: "taken", Contents: []byte("second")})
	if !errors.Is(err, paste.ErrExists) {
		t.Errorf("second create of an id: %v, want ErrExists", err)
	}
	if d := same(get(t, s, "taken"), first); d != "" {
		t.Errorf("after a refused create: %s", d)
	}
}

func testInvalidID(t *testing.T, s paste.Store) {
	for _, id := range []string{"", "a/b", "../x", ".", "a b", "é", strings.Repeat("a", paste.MaxIDLength+1)} {
		err := s.Create(t.Context(), &paste.Paste{ID: id, Contents: []byte("x")})
		if !errors.Is(err, paste.ErrInvalid) {
			t.Errorf("create id %.20q: %v, want ErrInvalid", id, err)
		}
		if _, err := s.Get(t.Context(), id); !errors.Is(err, paste.ErrNotFound) {
			t.Errorf("get id %.20q: %v, want ErrNotFound", id, err)
		}
	}
}

func testNotText(t *testing.T, s paste.Store) {
	err := s.Create(t.Context(), &paste.Paste{ID: "bytes", Contents: []byte("a\xffb")})
	if !errors.Is(err, paste.ErrInvalid) {
		t.Errorf("create of contents that are not UTF-8: %v, want ErrInvalid", err)
	}
	if _, err := s.Get(t.Context(), "bytes"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("get after a refused create: %v, want ErrNotFound", err)
	}
}

// testOwnCopies: a caller that changes the paste it gave or got changes
// nothing stored.
func testOwnCopies(t *testing.T, s paste.Store) {
	p := &paste.Paste{ID: "mine", Contents: []byte("original"), Language: "go"}
	create(t, s, p)
	p.Contents[0] = 'X'
	p.Language = "rust"
	want := &paste.Paste{ID: "mine", Contents: []byte("original"), Language: "go"}
	got := get(t, s, "mine")
	if d := same(got, want); d != "" {
		t.Fatalf("after the caller changed its paste: %s", d)
	}
	got.Contents[0] = 'Y'
	if d := same(get(t, s, "mine"), want); d != "" {
		t.Errorf("after the caller changed what Get returned: %s", d)
	}
}

// testConcurrent creates and reads pastes from several goroutines at once.
func testConcurrent(t *testing.T, s paste.Store) {
	const n = 16
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			p := &paste.Paste{ID: fmt.Sprintf("c%02d", i), Contents: []byte(fmt.Sprintf("paste %d", i))}
			if err := s.Create(ctx, p); err != nil {
				errs <- fmt.Errorf("create %s: %w", p.ID, err)
				return
			}
			got, err := s.Get(ctx, p.ID)
			if err != nil {
				errs <- fmt.Errorf("get %s: %w", p.ID, err)
			} else if d := same(got, p); d != "" {
				errs <- fmt.Errorf("get %s: %s", p.ID, d)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testExpired: a paste whose expiry has passed is gone, whoever reads it.
func testExpired(t *testing.T, s paste.Store) {
	create(t, s, &paste.Paste{ID: "old", Contents: []byte("x"), Expires: time.Now().Add(-time.Hour)})
	if _, err := s.Get(t.Context(), "old"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("get of an expired paste: %v, want ErrGone", err)
	}
	if _, err := s.Burn(t.Context(), "old"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("burn of an expired paste: %v, want ErrGone", err)
	}
}

// testRemove: a removed paste is gone, its id stays taken, and only ids
// that were stored can be removed, once.
func testRemove(t *testing.T, s paste.Store) {
	create(t, s, &paste.Paste{ID: "doomed", Contents: []byte("x")})
	create(t, s, &paste.Paste{ID: "kept", Contents: []byte("y")})
	if err := s.Remove(t.Context(), "doomed", paste.Deleted); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := s.Get(t.Context(), "doomed"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("get after remove: %v, want ErrGone", err)
	}
	if err := s.Remove(t.Context(), "doomed", paste.Deleted); !errors.Is(err, paste.ErrGone) {
		t.Errorf("second remove: %v, want ErrGone", err)
	}
	if err := s.Remove(t.Context(), "nosuchpaste", paste.Deleted); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("remove of an unknown id: %v, want ErrNotFound", err)
	}
	if err := s.Create(t.Context(), &paste.Paste{ID: "doomed", Contents: []byte("again")}); !errors.Is(err, paste.ErrExists) {
		t.Errorf("create over a removed paste: %v, want ErrExists", err)
	}
	if d := same(get(t, s, "kept"), &paste.Paste{ID: "kept", Contents: []byte("y")}); d != "" {
		t.Errorf("the other paste: %s", d)
	}
}

// testBurn: a burn returns the paste once; then it is gone.
func testBurn(t *testing.T, s paste.Store) {
	want := &paste.Paste{ID: "once", Contents: []byte("secret"), Burn: true}
	create(t, s, want)
	if d := same(get(t, s, "once"), want); d != "" {
		t.Fatalf("get before the burn (Get never burns): %s", d)
	}
	got, err := s.Burn(t.Context(), "once")
	if err != nil {
		t.Fatalf("burn: %v", err)
	}
	if d := same(got, want); d != "" {
		t.Errorf("burn returned: %s", d)
	}
	if _, err := s.Get(t.Context(), "once"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("get after the burn: %v, want ErrGone", err)
	}
	if _, err := s.Burn(t.Context(), "once"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("second burn: %v, want ErrGone", err)
	}
	if _, err := s.Burn(t.Context(), "nosuchpaste"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("burn of an unknown id: %v, want ErrNotFound", err)
	}
}

// testBurnOnce: of concurrent burns of one paste, exactly one gets it.
func testBurnOnce(t *testing.T, s paste.Store) {
	const n = 8
	create(t, s, &paste.Paste{ID: "race", Contents: []byte("one reader"), Burn: true})
	var wg sync.WaitGroup
	var mu sync.Mutex
	got, gone := 0, 0
	for range n {
		wg.Go(func() {
			_, err := s.Burn(t.Context(), "race")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				got++
			case errors.Is(err, paste.ErrGone):
				gone++
			default:
				t.Errorf("burn: %v", err)
			}
		})
	}
	wg.Wait()
	if got != 1 || gone != n-1 {
		t.Errorf("%d burns returned the paste and %d found it gone, want 1 and %d", got, gone, n-1)
	}
}
