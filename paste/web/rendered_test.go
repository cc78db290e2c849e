package web

import (
	"html/template"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pasteur-dev/pasteur/paste"
)

func TestRenderings(t *testing.T) {
	c := newRenderings(400)
	var made atomic.Int32
	render := func(s string) func() (string, error) {
		return func() (string, error) { made.Add(1); return s, nil }
	}
	// Readers that arrive together make the form once.
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if got, _ := c.get("html", "a", render(strings.Repeat("a", 100))); len(got) != 100 {
				t.Errorf("got %d bytes", len(got))
			}
		})
	}
	wg.Wait()
	if n := made.Load(); n != 1 {
		t.Fatalf("made %d times, want once", n)
	}
	// Kept within the bound, the least recent first out.
	c.get("html", "b", render(strings.Repeat("b", 100)))
	c.get("json", "a", render(strings.Repeat("j", 100)))
	c.get("html", "a", render("again")) // a is now the most recent
	c.get("html", "c", render(strings.Repeat("c", 100)))
	c.get("html", "d", render(strings.Repeat("d", 100)))
	if got, _ := c.get("html", "a", render("again")); got != strings.Repeat("a", 100) {
		t.Errorf("the most recent form was dropped: %q", got)
	}
	if got, _ := c.get("html", "b", render("new b")); got != "new b" {
		t.Errorf("the least recent form was kept: %q", got)
	}
	if c.bytes > 400 {
		t.Errorf("%d bytes kept, bound 400", c.bytes)
	}
	// Over a quarter of the bound: made, not kept.
	made.Store(0)
	c.get("html", "big", render(strings.Repeat("x", 101)))
	c.get("html", "big", render(strings.Repeat("x", 101)))
	if n := made.Load(); n != 2 || c.fits(101) {
		t.Errorf("a form over a quarter of the bound made %d times (fits %v), want 2", n, c.fits(101))
	}
}

// TestSharedPageIsTheStreamedPage: a page whose text comes from the
// shared renderings is byte for byte the page escaped a chunk at a time.
func TestSharedPageIsTheStreamedPage(t *testing.T) {
	text := strings.Repeat("a<b>&\"c'\r\n\x00é🦀", 3000)
	var pages []string
	for _, size := range []int64{0, 1} { // the default, and too small to keep anything
		h, st := newTestHandler(t, Config{RenderCache: size})
		put(st, &paste.Paste{ID: "p", Contents: []byte(text)})
		for range 2 {
			pages = append(pages, getWith(h, "/p").Body.String())
		}
		rec := getWith(h, "/p", "Accept", "application/json")
		want, _ := paste.Marshal(&paste.Paste{ID: "p", Contents: []byte(text)})
		if rec.Body.String() != string(want) {
			t.Fatalf("JSON (render cache %d) differs from Marshal", size)
		}
	}
	for i, p := range pages[1:] {
		if p != pages[0] {
			t.Fatalf("page %d differs from the first", i+1)
		}
	}
	if !strings.Contains(pages[0], "a&lt;b&gt;&amp;&#34;c&#39;&#13;\n\uFFFDé🦀") {
		t.Fatal("the text is not escaped as exactHTML does")
	}
}

// FuzzExactEscaper: the escaper is template.HTMLEscapeString with
// carriage returns as references, also when the text is cut anywhere.
func FuzzExactEscaper(f *testing.F) {
	f.Add("a<b>&\"'\r\n\x00é", 3)
	f.Add("\xff\xfe<", 1)
	e := newExactEscaper()
	f.Fuzz(func(t *testing.T, s string, cut int) {
		want := strings.ReplaceAll(template.HTMLEscapeString(s), "\r", "&#13;")
		if got := e.Replace(s); got != want {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
		if len(s) > 0 {
			i := (cut%len(s) + len(s)) % len(s)
			if got := e.Replace(s[:i]) + e.Replace(s[i:]); got != want {
				t.Fatalf("%q cut at %d: %q, want %q", s, i, got, want)
			}
		}
	})
}
