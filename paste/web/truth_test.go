package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pasteur-dev/pasteur/internal/testlog"
	"github.com/pasteur-dev/pasteur/paste"
)

// slowStore stores a paste once released, and fails, as gitsync does,
// when the context of Create ends first; Get fails with getErr.
type slowStore struct {
	release chan struct{}
	stored  atomic.Bool
	getErr  error
}

func (s *slowStore) Remove(context.Context, string, paste.Reason) error { return paste.ErrNotFound }

func (s *slowStore) Burn(context.Context, string) (*paste.Paste, error) {
	return nil, paste.ErrNotFound
}

func (s *slowStore) Create(ctx context.Context, _ *paste.Paste) error {
	select {
	case <-s.release:
		s.stored.Store(true)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gitsync: %w: %w", paste.ErrUnavailable, ctx.Err())
	}
}

func (s *slowStore) Get(context.Context, string) (*paste.Paste, error) { return nil, s.getErr }

// errorCount counts the records at level ERROR.
type errorCount struct {
	slog.Handler
	n *atomic.Int64
}

func (h errorCount) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.n.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

// TestTruthfulMessages: a client that goes away while its paste is being
// stored does not cut the paste off, and no ERROR says it was not saved;
// a read that storage cannot serve says so (503, not "not saved"); a
// stored paste over the limit is a clear 500 and a line in the log.
func TestTruthfulMessages(t *testing.T) {
	var errs atomic.Int64
	st := &slowStore{release: make(chan struct{})}
	h, err := NewHandler(Config{Store: st, Logger: slog.New(errorCount{testlog.New(t).Handler(), &errs})})
	if err != nil {
		t.Fatal(err)
	}

	body, ct := multipartBody(t, map[string]string{"paste": "x"})
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("POST", "http://paste.test/", body).WithContext(ctx)
	req.Header.Set("Content-Type", ct)
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), req)
		close(done)
	}()
	cancel() // the client goes away
	close(st.release)
	<-done
	if !st.stored.Load() || errs.Load() != 0 {
		t.Errorf("client gone: stored %v, %d ERROR lines", st.stored.Load(), errs.Load())
	}

	st.getErr = fmt.Errorf("fetch: %w", paste.ErrUnavailable)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://paste.test/abcdefghijklm", nil))
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "not saved") {
		t.Errorf("read while storage is away: %d %q", rec.Code, rec.Body)
	}

	errs.Store(0)
	st.getErr = fmt.Errorf("paste is larger than this server serves: %w", paste.ErrTooLarge)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://paste.test/abcdefghijklm", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "larger") || errs.Load() != 1 {
		t.Errorf("paste over the limit: %d %q, %d ERROR lines", rec.Code, rec.Body, errs.Load())
	}
}
