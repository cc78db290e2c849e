package ratelimit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		err  bool
	}{
		{"30/1m", Rate{30, time.Minute}, false},
		{"30/m", Rate{30, time.Minute}, false},
		{"10/1s", Rate{10, time.Second}, false},
		{" 5/90s ", Rate{5, 90 * time.Second}, false},
		{"1/h", Rate{1, time.Hour}, false},
		{"30", Rate{}, true},
		{"0/1m", Rate{}, true},
		{"-1/1m", Rate{}, true},
		{"x/1m", Rate{}, true},
		{"30/", Rate{}, true},
		{"30/0s", Rate{}, true},
		{"30/-1m", Rate{}, true},
		{"30/fortnight", Rate{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrBadRate) {
			t.Errorf("ParseRate(%q): %v is not ErrBadRate", tt.in, err)
		}
	}
}

// clock is a hand-moved time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{time.Unix(1e9, 0)} }
func addr(s string) netip.Addr       { return netip.MustParseAddr(s) }
func mustNew(t *testing.T, c Config) *Limiter {
	t.Helper()
	l, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestBucket(t *testing.T) {
	c := newClock()
	l := mustNew(t, Config{Rate: Rate{3, time.Minute}, Now: c.now})
	a := addr("192.0.2.1")
	for i := range 3 {
		if ok, _ := l.Allow(a); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow(a)
	if ok || wait != 20*time.Second {
		t.Fatalf("past the burst: %v, wait %s; want refused, 20s", ok, wait)
	}
	if ok, _ := l.Allow(addr("192.0.2.2")); !ok {
		t.Fatal("another client was refused")
	}
	c.add(10 * time.Second)
	if ok, wait := l.Allow(a); ok || wait != 10*time.Second {
		t.Fatalf("half a token later: %v, %s; want refused, 10s", ok, wait)
	}
	c.add(10 * time.Second)
	if ok, _ := l.Allow(a); !ok {
		t.Fatal("a token later: refused")
	}
	// An IPv6 /64 is one client.
	for range 3 {
		l.Allow(addr("2001:db8::1"))
	}
	if ok, _ := l.Allow(addr("2001:db8::2")); ok {
		t.Fatal("another address of the same /64 got a fresh bucket")
	}
}

func TestBlocked(t *testing.T) {
	c := newClock()
	l := mustNew(t, Config{Rate: Rate{2, time.Minute}, Now: c.now})
	a := addr("192.0.2.1")
	if b, _ := l.Blocked(a); b {
		t.Fatal("an unknown client is blocked")
	}
	l.Allow(a)
	if b, _ := l.Blocked(a); b {
		t.Fatal("blocked with a token left")
	}
	l.Allow(a)
	for range 3 { // asking spends nothing
		if b, wait := l.Blocked(a); !b || wait != 30*time.Second {
			t.Fatalf("Blocked = %v, %s; want true, 30s", b, wait)
		}
	}
	c.add(30 * time.Second)
	if b, _ := l.Blocked(a); b {
		t.Fatal("blocked after a token came back")
	}
}

func TestTableIsBounded(t *testing.T) {
	c := newClock()
	l := mustNew(t, Config{Rate: Rate{1, time.Hour}, MaxClients: 100, Now: c.now})
	for i := range 1000 {
		l.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		if n := l.Len(); n > 100 {
			t.Fatalf("%d clients remembered, want at most 100", n)
		}
	}
	// Full buckets are forgotten as time passes.
	c.add(2 * time.Hour)
	for range 60 {
		l.Allow(addr("192.0.2.1"))
	}
	if n := l.Len(); n > 1 {
		t.Fatalf("%d clients remembered after their buckets refilled, want 1", n)
	}
}

func TestHandler(t *testing.T) {
	c := newClock()
	rejected := 0
	l := mustNew(t, Config{Rate: Rate{2, time.Minute}, Now: c.now, OnReject: func() { rejected++ }})
	served := 0
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++ }),
		func(r *http.Request) netip.Addr { return addr("192.0.2.1") },
		func(r *http.Request) bool { return r.Method == http.MethodPost })
	do := func(method string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, "/", nil))
		return w
	}
	for range 5 {
		do("GET")
	}
	do("POST")
	do("POST")
	w := do("POST")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "30" {
		t.Fatalf("third POST: %d, Retry-After %q; want 429, 30", w.Code, w.Header().Get("Retry-After"))
	}
	if served != 7 || rejected != 1 {
		t.Fatalf("served %d, rejected %d; want 7, 1", served, rejected)
	}
	if s, _ := strconv.Atoi(w.Header().Get("Retry-After")); s < 1 {
		t.Fatal("Retry-After under a second")
	}
}

// FuzzParseRate reads --rate-limit values: no panic, and a rate it
// accepts is positive and reads back the same.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"30/1m", "30/m", "1/1ns", "9999999999999999999/1s", "1/2562047h", "5/.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.N < 1 || r.Per <= 0 {
			t.Fatalf("%q gave %v", s, r)
		}
		if back, err := ParseRate(r.String()); err != nil || back != r {
			t.Fatalf("%q gave %v, which reads back as %v, %v", s, r, back, err)
		}
	})
}
