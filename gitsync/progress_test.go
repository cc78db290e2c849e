package gitsync

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testlog"
)

// TestProgressContext: a bulk fetch outlives its caller's deadline while
// bytes arrive, ends once they stop, and ends when its caller cancels.
func TestProgressContext(t *testing.T) {
	log := testlog.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	pctx, progress, stop := progressContext(ctx, 300*time.Millisecond, log, "test")
	defer stop()
	for range 20 {
		progress(100)
		time.Sleep(25 * time.Millisecond)
	}
	if ctx.Err() == nil || pctx.Err() != nil {
		t.Fatalf("caller %v, fetch %v: want the caller's deadline past and the fetch going on", ctx.Err(), pctx.Err())
	}
	select {
	case <-pctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("not cut once nothing arrives")
	}
	if !errors.Is(stalled(pctx, errors.New("read")), errStalled) {
		t.Errorf("cut for %v, want errStalled", context.Cause(pctx))
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	pctx2, _, stop2 := progressContext(ctx2, time.Hour, slog.New(slog.DiscardHandler), "test")
	defer stop2()
	cancel2()
	select {
	case <-pctx2.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the caller's cancel does not end it")
	}
}
