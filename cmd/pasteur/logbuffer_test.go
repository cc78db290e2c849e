package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A warning goes out at once, after the lines logged before it; the rest
// goes out with the next flush, whole lines in order.
func TestServerLogFlushes(t *testing.T) {
	var out lockedBuffer
	log, flush := newServerLog(&out, slog.LevelInfo)
	log.With("component", "access").Info("request", "n", 1)
	log.Info("request", "n", 2)
	log.Warn("something is off")
	got := out.String()
	if !strings.Contains(got, "n=1") || !strings.Contains(got, "n=2") || !strings.HasSuffix(got, "msg=\"something is off\"\n") {
		t.Fatalf("after a warning, the log holds %q", got)
	}
	log.Info("request", "n", 3)
	log.Debug("not logged")
	flush()
	got = out.String()
	if !strings.HasSuffix(got, "n=3\n") || strings.Count(got, "\n") != 4 {
		t.Fatalf("after a flush, the log holds %q", got)
	}
}

// Lines wait for logFlushDelay at most: nothing else need flush them.
func TestServerLogFlushDelay(t *testing.T) {
	var out lockedBuffer
	log, _ := newServerLog(&out, slog.LevelInfo)
	log.Info("request", "n", 1)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "n=1"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a line logged 10 s ago is still not written")
		}
	}
}

// Lines longer than the buffer go out whole, after what waited.
func TestServerLogLongLine(t *testing.T) {
	var out lockedBuffer
	log, flush := newServerLog(&out, slog.LevelInfo)
	log.Info("first")
	long := strings.Repeat("x", 2*logBufferSize)
	log.Info("long", "v", long)
	flush()
	got := out.String()
	if i, j := strings.Index(got, "msg=first"), strings.Index(got, long); i < 0 || j < i || strings.Count(got, "\n") != 2 {
		t.Fatalf("the log holds %d bytes, first at %d, the long line at %d", len(got), i, j)
	}
}
