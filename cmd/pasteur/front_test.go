package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/internal/clientaddr"
	"github.com/pasteur-dev/pasteur/internal/metrics"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/web"
)

// takeAll is a store that takes every paste and keeps none: what the
// HTTP side of a create costs, without a store's.
type takeAll struct{ paste.Store }

func (takeAll) Create(context.Context, *paste.Paste) error { return nil }

// frontSite is the website as serve builds it, over takeAll, with its
// logs at level.
func frontSite(tb testing.TB, level slog.Level) http.Handler {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	m := metrics.New()
	h, err := web.NewHandler(web.Config{Store: observedStore{takeAll{}, m}, Logger: log.With("component", "http")})
	if err != nil {
		tb.Fatal(err)
	}
	site, err := front(withHealth(h, nil), &limitsConfig{}, clientaddr.New(nil), m, log)
	if err != nil {
		tb.Fatal(err)
	}
	return site
}

// createForm is a 2 KB paste as createbench's clients post it.
func createForm(tb testing.TB) (body []byte, contentType string) {
	tb.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("paste", "paste.txt")
	if err != nil {
		tb.Fatal(err)
	}
	fw.Write(bytes.Repeat([]byte("func main() { fmt.Println(\"the quick brown fox\") }\n"), 40))
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

// BenchmarkFrontCreate is the CPU and the allocations of a create in
// pasteur's own HTTP layers: the front middlewares, the website's
// handler and the form, over a store that does nothing (net/http's
// connection work is not in it).
func BenchmarkFrontCreate(b *testing.B) {
	body, ct := createForm(b)
	for _, level := range []slog.Level{slog.LevelWarn, slog.LevelInfo} {
		b.Run("log="+strings.ToLower(level.String()), func(b *testing.B) {
			site := frontSite(b, level)
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
				r.Header.Set("Content-Type", ct)
				r.RemoteAddr = "192.0.2.7:4321"
				w := httptest.NewRecorder()
				site.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
