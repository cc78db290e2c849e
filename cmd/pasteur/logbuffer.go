package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// The server's log. Every request writes an access line and every paste
// created one more; written one by one, each line is a write(2) of its
// own, a few microseconds of a request that takes tens. Lines below
// Warn wait in a buffer for at most logFlushDelay or until logBufferSize
// of them are there; a Warn or an Error goes out at once, with what waits
// before it, and so does the buffer when the server stops. A crash loses
// at most logFlushDelay of access and information lines, never an error
// that was logged before it.
const (
	logFlushDelay = 100 * time.Millisecond
	logBufferSize = 32 << 10
)

// logBuffer is the buffer of the server's log lines in front of out.
type logBuffer struct {
	out io.Writer

	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // flushes what waits; nil until the first line
}

func newLogBuffer(out io.Writer) *logBuffer {
	return &logBuffer{out: out, buf: make([]byte, 0, logBufferSize)}
}

// Write takes one log line (slog's handlers write each record with one
// call). It fails only when writing out what waited failed.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > cap(b.buf) {
			return b.out.Write(p)
		}
	}
	if len(b.buf) == 0 {
		if b.timer == nil {
			b.timer = time.AfterFunc(logFlushDelay, func() { _ = b.Flush() })
		} else {
			b.timer.Reset(logFlushDelay)
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes out what waits.
func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *logBuffer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.out.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// flushingHandler is a handler writing into a logBuffer that flushes it
// after each record of level Warn or above.
type flushingHandler struct {
	slog.Handler
	buf *logBuffer
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.buf.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.buf}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.buf}
}

// newServerLog returns the server's logger, writing text lines to out
// through a logBuffer, and the function that flushes it when the server
// stops.
func newServerLog(out io.Writer, level slog.Leveler) (*slog.Logger, func()) {
	buf := newLogBuffer(out)
	h := slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level})
	return slog.New(flushingHandler{h, buf}), func() { _ = buf.Flush() }
}
