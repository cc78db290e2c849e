package paste_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
)

func TestQuota(t *testing.T) {
	ctx := context.Background()
	measured := int64(900)
	measures := 0
	q := &paste.Quota{Store: &pastetest.Store{}, Max: 1000, Every: time.Hour,
		Size: func() (int64, error) { measures++; return measured, nil }}
	if err := q.Create(ctx, &paste.Paste{ID: "a", Contents: make([]byte, 99)}); err != nil {
		t.Fatal(err)
	}
	// 999 bytes counted: one more paste fits, whatever its size.
	if err := q.Create(ctx, &paste.Paste{ID: "b", Contents: make([]byte, 50)}); err != nil {
		t.Fatal(err)
	}
	err := q.Create(ctx, &paste.Paste{ID: "c", Contents: []byte("x")})
	if !errors.Is(err, paste.ErrFull) {
		t.Fatalf("over the bound: %v, want ErrFull", err)
	}
	if _, err := q.Get(ctx, "c"); !errors.Is(err, paste.ErrNotFound) {
		t.Fatalf("a refused paste was written: %v", err)
	}
	if _, err := q.Get(ctx, "a"); err != nil {
		t.Fatalf("reads refused when full: %v", err)
	}
	if measures != 1 {
		t.Fatalf("%d measures within Every, want 1", measures)
	}
	// Room made: seen at the next measure.
	q.Every, measured = 0, 10
	if err := q.Create(ctx, &paste.Paste{ID: "c", Contents: []byte("x")}); err != nil {
		t.Fatalf("after room was made: %v", err)
	}
}
