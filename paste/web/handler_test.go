package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pasteur-dev/pasteur/internal/testlog"
	"github.com/pasteur-dev/pasteur/paste"
)

// memStore is a Store in a map, for handler tests.
type memStore struct {
	mu     sync.Mutex
	pastes map[string]*paste.Paste
	err    error // returned by Create when set
	taken  int   // the next Create calls that report paste.ErrExists
	gone   map[string]bool
}

func (m *memStore) Create(_ context.Context, p *paste.Paste) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.taken > 0 {
		m.taken--
		return paste.ErrExists
	}
	if _, ok := m.pastes[p.ID]; ok {
		return paste.ErrExists
	}
	c := *p
	m.pastes[p.ID] = &c
	return nil
}

func (m *memStore) Get(_ context.Context, id string) (*paste.Paste, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pastes[id]
	if m.gone[id] {
		return nil, fmt.Errorf("get %s: %w", id, paste.ErrGone)
	}
	if !ok {
		return nil, fmt.Errorf("get %s: %w", id, paste.ErrNotFound)
	}
	c := *p
	return &c, nil
}

func newTestHandler(t *testing.T, cfg Config) (*Handler, *memStore) {
	t.Helper()
	st := &memStore{pastes: map[string]*paste.Paste{}}
	cfg.Store = st
	if cfg.Logger == nil {
		cfg.Logger = testlog.New(t)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h, st
}

// multipartBody encodes fields as multipart/form-data.
func multipartBody(t *testing.T, fields map[string]string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func post(t *testing.T, h http.Handler, fields map[string]string, accept string) *httptest.ResponseRecorder {
	t.Helper()
	body, ct := multipartBody(t, fields)
	req := httptest.NewRequest("POST", "http://paste.test/", body)
	req.Header.Set("Content-Type", ct)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCreateAnswers(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	tests := []struct {
		name, accept string
		fields       map[string]string
		check        func(t *testing.T, rec *httptest.ResponseRecorder)
	}{
		{"curl gets the URL", "*/*", map[string]string{"paste": "hello"}, func(t *testing.T, rec *httptest.ResponseRecorder) {
			line := strings.TrimSpace(rec.Body.String())
			if rec.Code != 200 || !strings.HasPrefix(line, "http://paste.test/") || strings.Count(rec.Body.String(), "\n") != 1 {
				t.Fatalf("got %d %q", rec.Code, rec.Body.String())
			}
		}},
		{"json like the original", "application/json", map[string]string{"paste": "x", "hl": "go", "ln": "on"}, func(t *testing.T, rec *httptest.ResponseRecorder) {
			var resp map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != 200 {
				t.Fatalf("got %d %q: %v", rec.Code, rec.Body.String(), err)
			}
			if resp["hl"] != "go" || resp["ln"] != true || resp["raw"] != nil || !paste.ValidID(resp["code"].(string)) {
				t.Fatalf("got %v", resp)
			}
		}},
		{"browser is redirected", "text/html,*/*", map[string]string{"paste": "x", "raw": "on"}, func(t *testing.T, rec *httptest.ResponseRecorder) {
			if rec.Code != http.StatusSeeOther || !strings.HasSuffix(rec.Header().Get("Location"), "?raw=true") {
				t.Fatalf("got %d %v", rec.Code, rec.Header())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, post(t, h, tt.fields, tt.accept)) })
	}
	if len(st.pastes) != len(tests) {
		t.Fatalf("stored %d pastes, want %d", len(st.pastes), len(tests))
	}
}

func TestCreateStoreErrors(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	st.taken = 3
	if rec := post(t, h, map[string]string{"paste": "x"}, ""); rec.Code != 200 {
		t.Fatalf("collisions are retried: got %d %s", rec.Code, rec.Body)
	}
	st.err = fmt.Errorf("push: %w", paste.ErrUnavailable)
	if rec := post(t, h, map[string]string{"paste": "x"}, ""); rec.Code != 503 {
		t.Fatalf("unavailable store: got %d", rec.Code)
	}
	st.err = fmt.Errorf("quota: %w", paste.ErrFull)
	if rec := post(t, h, map[string]string{"paste": "x"}, ""); rec.Code != http.StatusInsufficientStorage || !strings.Contains(rec.Body.String(), "full") {
		t.Fatalf("full store: got %d %q", rec.Code, rec.Body)
	}
	st.err = errors.New("disk on fire")
	if rec := post(t, h, map[string]string{"paste": "x"}, ""); rec.Code != 500 || strings.Contains(rec.Body.String(), "fire") {
		t.Fatalf("internal error: got %d %q", rec.Code, rec.Body)
	}
}

// TestLocation: a new paste's path is what url.Values encoded.
func TestLocation(t *testing.T) {
	for _, lang := range []string{"", "go", "cpp", "c++", "a b&c=d?e#f", "é"} {
		for _, lines := range []bool{false, true} {
			for _, raw := range []bool{false, true} {
				q := url.Values{}
				if lang != "" {
					q.Set("hl", lang)
				}
				if lines {
					q.Set("ln", "true")
				}
				if raw {
					q.Set("raw", "true")
				}
				want := "/abc"
				if len(q) > 0 {
					want += "?" + q.Encode()
				}
				if got := location("abc", lang, lines, raw); got != want {
					t.Errorf("location(%q, %v, %v) = %q, want %q", lang, lines, raw, got, want)
				}
			}
		}
	}
}
