package web

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
)

// TestWriteDeadlineFollowsProgress: with a stall of 1 s, a client that
// reads a 16 MiB paste slowly (about twice the stall in all) gets all of
// it, and one that stops reading is cut off.
func TestWriteDeadlineFollowsProgress(t *testing.T) {
	h, st := newTestHandler(t, Config{MaxSize: 32 << 20, WriteStall: time.Second})
	text := strings.Repeat("0123456789abcdef", 1<<20)
	put(st, &paste.Paste{ID: "big", Contents: []byte(text)})
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(rcvbuf int) (net.Conn, error) {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			return nil, err
		}
		if rcvbuf > 0 {
			c.(*net.TCPConn).SetReadBuffer(rcvbuf)
		}
		fmt.Fprintf(c, "GET /big?raw=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		return c, nil
	}

	slow, err := get(0)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	n := 0
	buf := make([]byte, 256<<10)
	for {
		slow.SetReadDeadline(time.Now().Add(30 * time.Second))
		m, err := slow.Read(buf)
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	if n < len(text) {
		t.Fatalf("a slow reader got %d of %d bytes in %s", n, len(text), time.Since(start))
	}
	t.Logf("a slow reader got %d bytes in %s", n, time.Since(start))

	stalled, err := get(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	time.Sleep(4 * time.Second) // four times the stall
	stalled.SetReadDeadline(time.Now().Add(60 * time.Second))
	t0 := time.Now()
	got, err := io.ReadAll(stalled)
	t.Logf("the stalled reader then read %d bytes in %s: %v", len(got), time.Since(t0), err)
	if len(got) >= len(text) {
		t.Fatalf("a stalled reader got all %d bytes", len(got))
	}
	if resp := getWith(h, "/big?raw=true"); resp.Code != http.StatusOK || resp.Body.Len() != len(text) {
		t.Fatalf("a plain read: %d, %d bytes", resp.Code, resp.Body.Len())
	}
}
