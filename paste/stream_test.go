package paste_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
)

func TestWriteJSONIsMarshal(t *testing.T) {
	for _, p := range []*paste.Paste{
		{ID: "a", Contents: []byte("hello")},
		{ID: "b", Contents: []byte(strings.Repeat("<é\u2028\"\\\n🦀&", 20000)), Language: "go", User: "ann", Comment: "c", Created: time.Unix(1e9, 0)},
		{ID: "c", Contents: []byte(""), Encrypted: true},
		{ID: "d", Contents: bytes.Repeat([]byte("é"), 16<<10)}, // chunk ends inside a rune
	} {
		want, err := paste.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := paste.WriteJSON(&got, p); err != nil || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%s: WriteJSON differs from Marshal (%v): %d vs %d bytes", p.ID, err, got.Len(), len(want))
		}
	}
	if err := paste.WriteJSON(&bytes.Buffer{}, &paste.Paste{ID: "x", Contents: []byte{0xff}}); err == nil {
		t.Fatal("invalid UTF-8 written")
	}
}

// FuzzWriteJSON: the streamed JSON is Marshal's, for any contents.
func FuzzWriteJSON(f *testing.F) {
	f.Add("<>&\u2028", 3)
	f.Add("é🦀", 1)
	f.Fuzz(func(t *testing.T, s string, size int) {
		if !utf8.ValidString(s) {
			return
		}
		p := &paste.Paste{ID: "f", Contents: []byte(s)}
		want, _ := paste.Marshal(p)
		var got bytes.Buffer
		if err := paste.WriteJSON(&got, p); err != nil || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%q: %q, want %q (%v)", s, got.Bytes(), want, err)
		}
		var joined strings.Builder
		for c := range paste.Chunks([]byte(s), max(1, size%64)) {
			if !utf8.ValidString(c) || c == "" {
				t.Fatalf("chunk %q of %q", c, s)
			}
			joined.WriteString(c)
		}
		if joined.String() != s {
			t.Fatalf("chunks of %q join to %q", s, joined.String())
		}
	})
}

func TestCacheView(t *testing.T) {
	ctx := context.Background()
	c := paste.NewCache(&pastetest.Store{}, 1<<20)
	if err := c.Create(ctx, &paste.Paste{ID: "a", Contents: []byte("abc")}); err != nil {
		t.Fatal(err)
	}
	v0, _ := c.View(ctx, "a") // the first read keeps it (Create does not)
	v1, _ := c.View(ctx, "a")
	v2, _ := c.View(ctx, "a")
	if &v1.Contents[0] != &v2.Contents[0] || &v0.Contents[0] != &v1.Contents[0] {
		t.Fatal("View copied the contents")
	}

	// A Get that reads from the store keeps a copy: its caller may
	// change what it was given.
	if err := c.Create(ctx, &paste.Paste{ID: "b", Contents: []byte("abc")}); err != nil {
		t.Fatal(err)
	}
	g, _ := c.Get(ctx, "b")
	g.Contents[0] = 'x'
	if v, _ := c.View(ctx, "b"); string(v.Contents) != "abc" {
		t.Fatalf("the cache kept the paste its Get gave away: %q", v.Contents)
	}
}

// heldStore is a Store whose Gets wait for release (or the end of their
// context), counting them.
type heldStore struct {
	pastetest.Store
	release chan struct{}
	gets    atomic.Int32
}

func (h *heldStore) Get(ctx context.Context, id string) (*paste.Paste, error) {
	h.gets.Add(1)
	select {
	case <-h.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return h.Store.Get(ctx, id)
}

// Views of a paste that is being read wait for that read, unless a
// Forget came since it began.
func TestCacheViewsShareARead(t *testing.T) {
	ctx := context.Background()
	for _, forget := range []bool{false, true} {
		s := &heldStore{release: make(chan struct{})}
		if err := s.Create(ctx, &paste.Paste{ID: "a", Contents: []byte("abc")}); err != nil {
			t.Fatal(err)
		}
		c := paste.NewCache(s, 1<<20)
		got := make(chan *paste.Paste, 2)
		view := func() {
			p, err := c.View(ctx, "a")
			if err != nil {
				t.Error(err)
			}
			got <- p
		}
		go view()
		for s.gets.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		if forget {
			c.Forget("a")
		}
		go view()
		if forget {
			for s.gets.Load() < 2 {
				time.Sleep(time.Millisecond)
			}
		} else {
			time.Sleep(10 * time.Millisecond) // the second View waits
		}
		close(s.release)
		p1, p2 := <-got, <-got
		want := int32(1)
		if forget {
			want = 2
		}
		if n := s.gets.Load(); n != want || p1 == nil || p2 == nil || string(p1.Contents) != "abc" || string(p2.Contents) != "abc" {
			t.Fatalf("forget %v: %d reads of the store, want %d; %+v %+v", forget, n, want, p1, p2)
		}
	}
}

// A View whose context ends while it waits for another View's read ends
// with its context's error: its client is gone, and it does not read
// the paste again on its own for nobody.
func TestCacheViewGivesUpWithItsContext(t *testing.T) {
	s := &heldStore{release: make(chan struct{})}
	if err := s.Create(context.Background(), &paste.Paste{ID: "a", Contents: []byte("abc")}); err != nil {
		t.Fatal(err)
	}
	c := paste.NewCache(s, 1<<20)
	first := make(chan error, 1)
	go func() {
		_, err := c.View(context.Background(), "a")
		first <- err
	}()
	for s.gets.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if p, err := c.View(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("a View whose context ended: %+v, %v; want context.Canceled", p, err)
	}
	close(s.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := s.gets.Load(); n != 1 {
		t.Fatalf("%d reads of the store, want 1", n)
	}
}
