package gitsync

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"
)

// A bulk fetch (the whole history into an empty repository) takes as long
// as the remote needs: git upload-pack counts the objects of a large
// repository for minutes before it sends the first byte of the pack. Its
// deadline moves with progress instead: it is cut only once neither pack
// bytes nor progress messages arrived for stallTimeout.
const (
	stallTimeout  = 30 * time.Second
	progressEvery = 10 * time.Second
)

// errStalled: a bulk fetch received nothing for stallTimeout.
var errStalled = errors.New("the remote sent nothing for " + stallTimeout.String())

// progressContext returns a context for a bulk fetch: it ends when ctx is
// cancelled, but not at ctx's deadline; it ends once progress (to be
// called with the bytes of each arrival) has not been called for stall.
// It logs the bytes received every progressEvery. stop must be called
// when the fetch is over.
func progressContext(ctx context.Context, stall time.Duration, log *slog.Logger, what string) (_ context.Context, progress func(n int), stop func()) {
	pctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	unwatch := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel(context.Cause(ctx))
		}
	})
	var total, last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{})
	go func() {
		t0 := time.Now()
		tick := time.NewTicker(min(stall/4, time.Second))
		defer tick.Stop()
		logged := t0
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				if now.Sub(time.Unix(0, last.Load())) > stall {
					cancel(errStalled)
					return
				}
				if now.Sub(logged) >= progressEvery {
					logged = now
					log.Info(what+": still fetching", "received_bytes", total.Load(), "for", now.Sub(t0).Round(time.Second).String())
				}
			}
		}
	}()
	progress = func(n int) {
		total.Add(int64(n))
		last.Store(time.Now().UnixNano())
	}
	return pctx, progress, func() {
		close(done)
		unwatch()
		cancel(nil)
	}
}

// stalled wraps err with the reason pctx ended, when it ended for lack of
// progress.
func stalled(pctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(pctx), errStalled) {
		return errors.Join(errStalled, err)
	}
	return err
}
