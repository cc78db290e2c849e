package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pasteur-dev/pasteur/internal/testlog"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
	"github.com/pasteur-dev/pasteur/paste/web"
)

// gatedStore is a Store whose Gets wait until gate is closed, so that
// the readers of a test all miss the Cache at once and share its read.
type gatedStore struct {
	pastetest.Store
	gate chan struct{}
}

func (g *gatedStore) Get(ctx context.Context, id string) (*paste.Paste, error) {
	<-g.gate
	return g.Store.Get(ctx, id)
}

// TestBurnOnceConcurrently: readers of a paste that burns, all at once,
// through the Cache that pasteur puts in front of its store (their
// Views share one read of it), as raw text, JSON and the page's button:
// exactly one gets the text, every other gets 410.
func TestBurnOnceConcurrently(t *testing.T) {
	const readers = 24
	for round := range 3 {
		st := &gatedStore{gate: make(chan struct{})}
		if err := st.Create(context.Background(), &paste.Paste{ID: "burnme", Contents: []byte("the secret"), Burn: true}); err != nil {
			t.Fatal(err)
		}
		h, err := web.NewHandler(web.Config{Store: paste.NewCache(st, 1<<20), Logger: testlog.New(t)})
		if err != nil {
			t.Fatal(err)
		}
		codes := make([]int, readers)
		texts := make([]bool, readers)
		var started, done sync.WaitGroup
		for i := range readers {
			started.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				var req *http.Request
				switch i % 3 {
				case 0:
					req = httptest.NewRequest("GET", "/burnme?raw=true", nil)
				case 1:
					req = httptest.NewRequest("GET", "/burnme", nil)
					req.Header.Set("Accept", "application/json")
				default:
					req = httptest.NewRequest("POST", "/burnme", nil)
					req.Header.Set("Accept", "text/html")
				}
				rec := httptest.NewRecorder()
				started.Done()
				h.ServeHTTP(rec, req)
				codes[i], texts[i] = rec.Code, strings.Contains(rec.Body.String(), "the secret")
			}()
		}
		started.Wait()
		close(st.gate)
		done.Wait()
		delivered := 0
		for i := range readers {
			switch {
			case codes[i] == http.StatusOK && texts[i]:
				delivered++
			case codes[i] != http.StatusGone:
				t.Errorf("round %d, reader %d: %d (text %v), want 200 with the text or 410", round, i, codes[i], texts[i])
			}
		}
		if delivered != 1 {
			t.Fatalf("round %d: the text was delivered %d times: %v", round, delivered, codes)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/burnme?raw=true", nil))
		if rec.Code != http.StatusGone {
			t.Fatalf("round %d: a read after the burn: %d", round, rec.Code)
		}
	}
}

// ctxStore is a Store whose Gets end with their context's error once it
// has ended, as a store's read that waits for the remote does.
type ctxStore struct{ pastetest.Store }

func (s *ctxStore) Get(ctx context.Context, id string) (*paste.Paste, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ctxstore: get %s: %w", id, err)
	}
	return s.Store.Get(ctx, id)
}

// TestClientGoneIsNoFailure: a request whose client went away while the
// paste was read is not a failure of the server's (no error in the log:
// clients that hang up would fill it), and nothing is written for it.
func TestClientGoneIsNoFailure(t *testing.T) {
	st := &ctxStore{}
	if err := st.Create(context.Background(), &paste.Paste{ID: "a", Contents: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	h, err := web.NewHandler(web.Config{Store: paste.NewCache(st, 1<<20), Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/a?raw=true", nil).WithContext(ctx))
	if strings.Contains(log.String(), "level=ERROR") || rec.Body.Len() > 0 {
		t.Fatalf("answer %d %q; log:\n%s", rec.Code, rec.Body, log.String())
	}
}
