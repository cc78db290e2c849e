package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"strings"
	"testing"
)

func TestStaticFiles(t *testing.T) {
	h, _ := newTestHandler(t, Config{})
	tests := []struct {
		path, ctype string
		gzip        bool
	}{
		{"/static/style.css", "text/css; charset=utf-8", true},
		{"/static/js/paste.js", "text/javascript; charset=utf-8", true},
		{"/static/vendor/hljs/core.min.js", "text/javascript; charset=utf-8", true},
		{"/static/vendor/hljs/languages/go.min.js", "text/javascript; charset=utf-8", true},
		{"/static/vendor/hljs/styles/github-dark.min.css", "text/css; charset=utf-8", true},
		{"/static/vendor/hljs/LICENSE", "text/plain; charset=utf-8", true},
		{"/static/favicon.svg", "image/svg+xml", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			plain := getWith(h, tt.path)
			etag := plain.Header().Get("ETag")
			if plain.Code != 200 || plain.Header().Get("Content-Type") != tt.ctype || !strings.HasPrefix(etag, `"`) || plain.Header().Get("Content-Encoding") != "" {
				t.Fatalf("plain: %d %v", plain.Code, plain.Header())
			}
			want, _ := fs.ReadFile(assets, strings.TrimPrefix(tt.path, "/"))
			if !bytes.Equal(plain.Body.Bytes(), want) {
				t.Fatal("plain body differs from the embedded file")
			}
			if rec := getWith(h, tt.path, "If-None-Match", etag); rec.Code != 304 || rec.Body.Len() != 0 {
				t.Fatalf("If-None-Match: %d", rec.Code)
			}
			gz := getWith(h, tt.path, "Accept-Encoding", "gzip, deflate, br")
			if !tt.gzip {
				return
			}
			gzTag := gz.Header().Get("ETag")
			if gz.Header().Get("Content-Encoding") != "gzip" || gzTag == etag || !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
				t.Fatalf("gzip: %v", gz.Header())
			}
			zr, err := gzip.NewReader(gz.Body)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(zr)
			if !bytes.Equal(got, want) || gz.Body.Len() >= len(want) {
				t.Fatal("gzip body does not decompress to the file, or is not smaller")
			}
			if rec := getWith(h, tt.path, "Accept-Encoding", "gzip", "If-None-Match", gzTag); rec.Code != 304 {
				t.Fatalf("If-None-Match on the gzip variant: %d", rec.Code)
			}
			if rec := getWith(h, tt.path, "Accept-Encoding", "gzip;q=0, deflate"); rec.Header().Get("Content-Encoding") != "" {
				t.Fatal("gzip sent with q=0")
			}
		})
	}
	for _, p := range []string{"/static/", "/static/nosuch.js", "/static/vendor", "/static/%2e%2e/handler.go", "/static/vendor/hljs/languages/nosuch.min.js"} {
		if rec := getWith(h, p); rec.Code != 404 {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
	if rec := getWith(h, "/static/style.css"); rec.Header().Get("Content-Security-Policy") == "" {
		t.Error("static files lack the security headers")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                    false,
		"gzip":                true,
		"GZIP":                true,
		"deflate, gzip;q=0.5": true,
		"gzip;q=0":            false,
		"gzip; q=0.000":       false,
		"*":                   true,
		"*;q=0":               false,
		"*;q=0, gzip":         true,
		"gzip;q=0, *":         false,
		"br, identity":        false,
		"x-gzip":              true,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}
