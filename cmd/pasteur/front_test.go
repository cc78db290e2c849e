package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

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
// logs at level, and the context serve's server gives a connection from
// peer.
func frontSite(tb testing.TB, level slog.Level, peer string) (http.Handler, context.Context) {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	m := metrics.New()
	h, err := web.NewHandler(web.Config{Store: observedStore{takeAll{}, m}, Logger: log.With("component", "http")})
	if err != nil {
		tb.Fatal(err)
	}
	clients := clientaddr.New(nil)
	site, err := front(withHealth(h, nil), &limitsConfig{}, clients, m, log)
	if err != nil {
		tb.Fatal(err)
	}
	return site, clients.ConnContext(context.Background(), peerConn(peer))
}

// peerConn is a connection from a peer, as ConnContext sees it.
type peerConn string

func (peerConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (peerConn) Write(b []byte) (int, error) { return len(b), nil }
func (peerConn) Close() error                { return nil }
func (peerConn) LocalAddr() net.Addr         { return nil }
func (c peerConn) RemoteAddr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(string(c)))
}
func (peerConn) SetDeadline(time.Time) error      { return nil }
func (peerConn) SetReadDeadline(time.Time) error  { return nil }
func (peerConn) SetWriteDeadline(time.Time) error { return nil }

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
// connection work is not in it). The requests come on one connection.
func BenchmarkFrontCreate(b *testing.B) {
	body, ct := createForm(b)
	const peer = "192.0.2.7:4321"
	for _, level := range []slog.Level{slog.LevelWarn, slog.LevelInfo} {
		b.Run("log="+strings.ToLower(level.String()), func(b *testing.B) {
			site, conn := frontSite(b, level, peer)
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequestWithContext(conn, http.MethodPost, "/", bytes.NewReader(body))
				r.Header.Set("Content-Type", ct)
				r.RemoteAddr = peer
				w := httptest.NewRecorder()
				site.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
