package paste

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
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore is a Store in a map, for handler tests.
type memStore struct {
	mu     sync.Mutex
	pastes map[string]*Paste
	err    error // returned by Create when set
	taken  int   // the next Create calls that report ErrExists
}

func (m *memStore) Create(_ context.Context, p *Paste) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.taken > 0 {
		m.taken--
		return ErrExists
	}
	if _, ok := m.pastes[p.ID]; ok {
		return ErrExists
	}
	c := *p
	m.pastes[p.ID] = &c
	return nil
}

func (m *memStore) Get(_ context.Context, id string) (*Paste, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pastes[id]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", id, ErrNotFound)
	}
	c := *p
	return &c, nil
}

func newTestHandler(t *testing.T, cfg Config) (*Handler, *memStore) {
	t.Helper()
	st := &memStore{pastes: map[string]*Paste{}}
	cfg.Store = st
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

func get(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
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
			if resp["hl"] != "go" || resp["ln"] != true || resp["raw"] != nil || !ValidID(resp["code"].(string)) {
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

func TestNewID(t *testing.T) {
	if IDBits(DefaultIDLength) < 64 {
		t.Fatalf("default ids have %.1f bits", IDBits(DefaultIDLength))
	}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id, err := NewID(DefaultIDLength)
		if err != nil || len(id) != DefaultIDLength || !ValidID(id) || seen[id] {
			t.Fatalf("bad id %q: %v", id, err)
		}
		seen[id] = true
	}
	for _, n := range []int{0, -1, MaxIDLength + 1} {
		if _, err := NewID(n); err == nil {
			t.Errorf("NewID(%d) accepted", n)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	created := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	p := &Paste{ID: "abc", Contents: []byte("a\r\nb\t🦀 <&>"), Encrypted: true, Language: "go", User: "ann", Comment: "a note", Created: created}
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Unmarshal("abc", b)
	if err != nil || !bytes.Equal(q.Contents, p.Contents) || !q.Encrypted || q.Language != "go" || q.User != "ann" || q.Comment != "a note" || !q.Created.Equal(created) {
		t.Fatalf("got %+v, %v", q, err)
	}
	orig, err := Unmarshal("X1z", []byte(`{"contents":"hi","encrypted":false}`))
	if err != nil || string(orig.Contents) != "hi" {
		t.Fatalf("original format: %+v %v", orig, err)
	}
	if _, err := Marshal(&Paste{Contents: []byte{0xff}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("non-UTF-8 marshalled: %v", err)
	}
}
func TestCreateStoreErrors(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	st.taken = 3
	if rec := post(t, h, map[string]string{"paste": "x"}, ""); rec.Code != 200 {
		t.Fatalf("collisions are retried: got %d %s", rec.Code, rec.Body)
	}
	st.err = fmt.Errorf("push: %w", ErrUnavailable)
	if rec := post(t, h, map[string]string{"paste": "x"}, ""); rec.Code != 503 {
		t.Fatalf("unavailable store: got %d", rec.Code)
	}
	st.err = errors.New("disk on fire")
	if rec := post(t, h, map[string]string{"paste": "x"}, ""); rec.Code != 500 || strings.Contains(rec.Body.String(), "fire") {
		t.Fatalf("internal error: got %d %q", rec.Code, rec.Body)
	}
}
