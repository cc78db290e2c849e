package web

import (
	"bytes"
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

// writeSizes records the size of each write an answer's body takes.
type writeSizes struct {
	*httptest.ResponseRecorder
	sizes []int
}

func (w *writeSizes) Write(b []byte) (int, error) {
	w.sizes = append(w.sizes, len(b))
	return w.ResponseRecorder.Write(b)
}

// TestRawTextWrittenInSteps: a paste's raw text goes out in writes of
// the configured step straight from memory, whole or as the ranges asked
// for, and a multi-range answer (copied through a pipe) is still right.
func TestRawTextWrittenInSteps(t *testing.T) {
	const progressStep = 256 << 10
	h, st := newTestHandler(t, Config{MaxSize: 32 << 20, WriteStep: progressStep})
	text := make([]byte, 3*progressStep+7)
	for i := range text {
		text[i] = byte('a' + i%26)
	}
	put(st, &paste.Paste{ID: "big", Contents: text})
	get := func(header ...string) *writeSizes {
		req := httptest.NewRequest("GET", "/big?raw=true", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := &writeSizes{ResponseRecorder: httptest.NewRecorder()}
		h.ServeHTTP(w, req)
		return w
	}

	w := get()
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), text) {
		t.Fatalf("whole: %d, %d bytes", w.Code, w.Body.Len())
	}
	if want := []int{progressStep, progressStep, progressStep, 7}; fmt.Sprint(w.sizes) != fmt.Sprint(want) {
		t.Errorf("whole: writes of %v, want %v", w.sizes, want)
	}

	w = get("Range", "bytes=100-300000")
	if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), text[100:300001]) {
		t.Fatalf("range: %d, %d bytes", w.Code, w.Body.Len())
	}
	if want := []int{progressStep, 300001 - 100 - progressStep}; fmt.Sprint(w.sizes) != fmt.Sprint(want) {
		t.Errorf("range: writes of %v, want %v", w.sizes, want)
	}

	w = get("Range", "bytes=0-9,20-29")
	if w.Code != http.StatusPartialContent || !bytes.Contains(w.Body.Bytes(), text[20:30]) || !bytes.Contains(w.Body.Bytes(), text[0:10]) {
		t.Fatalf("two ranges: %d, %q", w.Code, w.Body.String())
	}
}

// TestDefaultWriteStep: without a step configured, writes carry
// DefaultWriteStep at most.
func TestDefaultWriteStep(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	text := bytes.Repeat([]byte("x"), DefaultWriteStep+1)
	put(st, &paste.Paste{ID: "big", Contents: text})
	w := &writeSizes{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(w, httptest.NewRequest("GET", "/big?raw=true", nil))
	if want := []int{DefaultWriteStep, 1}; w.Code != http.StatusOK || fmt.Sprint(w.sizes) != fmt.Sprint(want) {
		t.Fatalf("%d: writes of %v, want %v", w.Code, w.sizes, want)
	}
}
