package main

import (
	"context"
	"log/slog"
	"sync"
)

// watch passes records to a handler and tells when the store logs a
// given message: the end of its start-up scan, which holds the store's
// mutex in turns and would slow the creates measured as the baseline.
type watch struct {
	slog.Handler
	*seen
}

type seen struct {
	msg  string
	once sync.Once
	c    chan struct{}
}

func newWatch(h slog.Handler, msg string) *watch {
	return &watch{Handler: h, seen: &seen{msg: msg, c: make(chan struct{})}}
}

func (w *watch) Enabled(context.Context, slog.Level) bool { return true }

func (w *watch) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == w.msg {
		w.once.Do(func() { close(w.c) })
	}
	if !w.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return w.Handler.Handle(ctx, r)
}

func (w *watch) WithAttrs(as []slog.Attr) slog.Handler {
	return &watch{Handler: w.Handler.WithAttrs(as), seen: w.seen}
}

func (w *watch) WithGroup(name string) slog.Handler {
	return &watch{Handler: w.Handler.WithGroup(name), seen: w.seen}
}
