package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	tests := []struct{ in, text, user string }{
		{"ann", "ann", "ann"},
		{" ann \t smith\n", "ann smith", "ann smith"},
		{"\x1b[31mred\x1b[0m", "red", "red"},
		{"\x1b[1;38;5;196mbold\x1b[m!", "bold!", "bold!"},
		{"\u009b31mred", "red", "red"},
		{"\x1b]0;title\x07after", "after", "after"},
		{"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link", "link"},
		{"a\x1bcb", "ab", "ab"},
		{"cut\x1b[", "cut", "cut"},
		{"evil\u202etxt.exe", "eviltxt.exe", "eviltxt.exe"},
		{"\u2066iso\u2069 \u200bzw\u200d", "iso zw", "iso zw"},
		{"a\x00b\x7fc", "a b c", "a b c"},
		{"<ann> x", "<ann> x", "ann x"},
		{">", ">", ""},
		{"\xff\xfe", "\uFFFD", "\uFFFD"},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in, 64); got != tt.text {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.text)
		}
		if got := cleanUser(tt.in, 64); got != tt.user {
			t.Errorf("cleanUser(%q) = %q, want %q", tt.in, got, tt.user)
		}
	}
}

// FuzzCleanText: whatever a client sends as user or comment, what is
// kept is valid UTF-8 within the bound, one line with no control, format
// (bidi) or escape characters, and no '<' or '>' in a user.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"ann", "\x1b[31mx", "\u202ex", "<>", "\u009b\u009d\x1b]", "a\x1b[9999999999999999999;", "é\x00\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, out := range []string{cleanText(in, maxUser), cleanUser(in, maxUser)} {
			if !utf8.ValidString(out) || len(out) > maxUser || out != strings.TrimSpace(out) {
				t.Fatalf("%q gave %q", in, out)
			}
			for _, c := range out {
				if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) || (c != ' ' && unicode.IsSpace(c)) {
					t.Fatalf("%q gave %q, with %U", in, out, c)
				}
			}
		}
		if strings.ContainsAny(cleanUser(in, maxUser), "<>") {
			t.Fatalf("user %q kept < or >", in)
		}
	})
}

func TestUserNames(t *testing.T) {
	h, st := newTestHandler(t, Config{User: func(r *http.Request) (string, bool) {
		u := r.Header.Get("X-Test-User")
		return u, u != ""
	}})
	// A name that is nothing but what cannot be shown is refused, not
	// turned into another's.
	for _, user := range []string{">", "<>", "\x1b[31m", "\u202e"} {
		if rec := post(t, h, map[string]string{"paste": "x", "user": user}, ""); rec.Code != 400 || !strings.Contains(rec.Body.String(), "user name") {
			t.Errorf("user %q: %d %q, want 400", user, rec.Code, rec.Body)
		}
	}
	if rec := post(t, h, map[string]string{"paste": "x", "user": "  "}, ""); rec.Code != 200 || stored(t, st, rec).User != "" {
		t.Errorf("a blank user: %d, want an anonymous paste", rec.Code)
	}
	// The authenticated user wins over the form.
	body, ct := multipartBody(t, map[string]string{"paste": "x", "user": "mallory"})
	req := httptest.NewRequest("POST", "http://paste.test/", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Test-User", "alice")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if p := stored(t, st, rec); p.User != "alice" {
		t.Errorf("user %q, want the authenticated alice", p.User)
	}
}

// TestOneSizeRule: the limit is on the paste as stored, whatever the
// encoding; a body longer than any encoding of an allowed paste is
// refused with 413, early when its length is declared, and whatever its
// number of parts.
func TestOneSizeRule(t *testing.T) {
	const max = 1 << 20
	h, st := newTestHandler(t, Config{MaxSize: max})
	form := "application/x-www-form-urlencoded"
	do := func(ct string, body io.Reader, length int64) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "http://paste.test/", body)
		req.Header.Set("Content-Type", ct)
		req.ContentLength = length
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// 600 KB of line breaks, urlencoded: 1.8 MB on the wire, 600 KB stored.
	enc := "paste=" + strings.Repeat("%0A", 600<<10) + "x"
	if rec := do(form, strings.NewReader(enc), int64(len(enc))); rec.Code != 200 || len(stored(t, st, rec).Contents) != 600<<10+1 {
		t.Fatalf("600 KB urlencoded as %%0A: %d %q", rec.Code, rec.Body)
	}
	// 60,000 parts, 3.6 MB, declared or not.
	var parts bytes.Buffer
	parts.WriteString("--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\n\r\nx\r\n")
	for i := range 60000 {
		fmt.Fprintf(&parts, "--zz\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n\r\n", i)
	}
	parts.WriteString("--zz--\r\n")
	for _, length := range []int64{int64(parts.Len()), -1} {
		if rec := do("multipart/form-data; boundary=zz", bytes.NewReader(parts.Bytes()), length); rec.Code != 413 {
			t.Errorf("60,000 parts (length %d): %d %q, want 413", length, rec.Code, rec.Body)
		}
	}
	// A declared length over the limit is refused before a byte is read.
	r := &countingReader{}
	if rec := do("text/plain", r, 100<<20); rec.Code != 413 || r.n != 0 {
		t.Errorf("100 MB declared: %d, %d bytes read; want 413 and none", rec.Code, r.n)
	}
	// Undeclared, it is read up to the limit only.
	r = &countingReader{limit: 100 << 20}
	if rec := do("text/plain", r, -1); rec.Code != 413 || r.n > 2*max {
		t.Errorf("100 MB undeclared: %d, %d bytes read; want 413 and about 1 MiB", rec.Code, r.n)
	}
}

// countingReader reads limit bytes of 'a', counting what is read.
type countingReader struct{ n, limit int }

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, io.EOF
	}
	n := min(len(p), c.limit-c.n)
	for i := range n {
		p[i] = 'a'
	}
	c.n += n
	return n, nil
}
