package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
)

func getWith(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func put(st *memStore, p *paste.Paste) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.pastes[p.ID] = p
}

// inlineHandler finds event handler attributes such as onclick=.
var inlineHandler = regexp.MustCompile(`<[^>]*\son[a-z]+=`)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func TestShowPage(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	content := "<script>alert(1)</script>\r\n\ttab & emoji 🦀 \"q\" 'a'\nlast"
	put(st, &paste.Paste{ID: "clear", Contents: []byte(content), Language: "go", User: "<b>ann</b>", Comment: "<img src=x onerror=alert(1)>", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})

	page := getWith(h, "/clear?ln=true", "Accept", browserAccept)
	body := page.Body.String()
	if page.Code != 200 || page.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %v", page.Code, page.Header())
	}
	for _, bad := range []string{"<script>alert", "<b>ann", "<img src=x"} {
		if strings.Contains(body, bad) {
			t.Errorf("page has unescaped %q", bad)
		}
	}
	for _, want := range []string{
		// The exact text, with the carriage return kept as a reference.
		`<code id="code" class="language-go">&lt;script&gt;alert(1)&lt;/script&gt;&#13;` + "\n\ttab &amp; emoji 🦀 &#34;q&#34; &#39;a&#39;\nlast</code>",
		`data-hl="go"`, `data-hl-files="go"`, `data-ln="true"`,
		`&lt;b&gt;ann&lt;/b&gt;`, `&lt;img src=x onerror=alert(1)&gt;`,
		`<time datetime="2026-01-02T03:04:05Z">2026-01-02 03:04 UTC</time>`,
		`href="/clear?raw=true"`, `href="/clear?hl=go"`, // the line-numbers toggle
		`<script type="module" src="/static/js/paste.js"></script>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "data-envelope") {
		t.Error("a clear paste's page has an envelope")
	}
	for hdr, want := range map[string]string{
		"Content-Security-Policy": "script-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	} {
		if !strings.Contains(page.Header().Get(hdr), want) {
			t.Errorf("%s: %q, want %q", hdr, page.Header().Get(hdr), want)
		}
	}
	if csp := page.Header().Get("Content-Security-Policy"); strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows unsafe sources: %s", csp)
	}
	// Inline scripts and styles would be blocked: there must be none.
	for _, name := range []string{"/", "/clear"} {
		b := getWith(h, name).Body.String()
		if strings.Contains(b, "<script>") || strings.Contains(b, "style=") || strings.Contains(b, "<style") || inlineHandler.MatchString(b) {
			t.Errorf("%s has inline script or style", name)
		}
	}
}

func TestShowLanguage(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	put(st, &paste.Paste{ID: "a", Contents: []byte("x"), Language: "go"})
	put(st, &paste.Paste{ID: "b", Contents: []byte("x"), Language: "nosuchlanguage"})
	tests := []struct{ target, hl, files string }{
		{"/a", "go", "go"},                   // stored
		{"/a?hl=python", "python", "python"}, // the URL wins
		{"/a?hl=klingon", "go", "go"},        // an unknown one in the URL is ignored
		{"/a?hl=html", "xml", "xml css javascript graphql"},
		{"/b", "", ""}, // an unknown stored one too
	}
	for _, tt := range tests {
		body := getWith(h, tt.target).Body.String()
		if !strings.Contains(body, `data-hl="`+tt.hl+`"`) || !strings.Contains(body, `data-hl-files="`+tt.files+`"`) {
			t.Errorf("%s: want hl %q, files %q", tt.target, tt.hl, tt.files)
		}
	}
}

func TestShowRaw(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	content := "a\r\n\tb 🦀 <x>\n"
	put(st, &paste.Paste{ID: "clear", Contents: []byte(content)})
	env := envelopeOf(t, "secret")
	put(st, &paste.Paste{ID: "enc", Contents: []byte(env), Encrypted: true, Language: "go"})

	raw := getWith(h, "/clear?raw=true", "Accept", browserAccept)
	if raw.Code != 200 || raw.Body.String() != content || raw.Header().Get("Content-Type") != "text/plain; charset=utf-8" || raw.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("raw: %d %q %v", raw.Code, raw.Body, raw.Header())
	}
	// An encrypted paste: a page that decrypts for browsers, a refusal
	// that says what to do for others.
	page := getWith(h, "/enc?raw=true", "Accept", browserAccept)
	if page.Code != 200 || !strings.Contains(page.Body.String(), `data-envelope="`+env+`"`) || !strings.Contains(page.Body.String(), "/static/js/raw.js") {
		t.Fatalf("raw page of an encrypted paste: %d %s", page.Code, page.Body)
	}
	curl := getWith(h, "/enc?raw=true", "Accept", "*/*")
	if curl.Code != http.StatusConflict || !strings.Contains(curl.Body.String(), "pasteur get") || strings.Contains(curl.Body.String(), env) {
		t.Fatalf("raw of an encrypted paste for curl: %d %q", curl.Code, curl.Body)
	}
	// The page of an encrypted paste carries the envelope, not a text.
	body := getWith(h, "/enc").Body.String()
	if !strings.Contains(body, `data-envelope="`+env+`" hidden`) || !strings.Contains(body, `<code id="code" class="language-go"></code>`) {
		t.Fatalf("encrypted page: %s", body)
	}
}

func TestShowJSON(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	put(st, &paste.Paste{ID: "j", Contents: []byte("a\r\n🦀"), Language: "go", User: "ann"})
	rec := getWith(h, "/j", "Accept", "application/json")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || !strings.Contains(rec.Header().Get("Vary"), "Accept") {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got["contents"] != "a\r\n🦀" || got["encrypted"] != false || got["hl"] != "go" || got["user"] != "ann" {
		t.Fatalf("got %v", got)
	}
	// ?raw=true does not change a JSON answer.
	if rec := getWith(h, "/j?raw=true", "Accept", "application/json"); rec.Body.String() != getWith(h, "/j", "Accept", "application/json").Body.String() {
		t.Fatalf("raw JSON differs: %s", rec.Body)
	}
}

func TestShowNotFound(t *testing.T) {
	h, _ := newTestHandler(t, Config{})
	for _, target := range []string{"/nosuchpaste", "/bad!id", "/" + strings.Repeat("a", 65), "/favicon.ico", "/a/b"} {
		rec := getWith(h, target)
		if rec.Code != 404 {
			t.Errorf("GET %s: %d, want 404", target, rec.Code)
		}
	}
	if rec := getWith(h, "/nosuchpaste", "Accept", "application/json"); rec.Code != 404 || strings.Count(rec.Body.String(), "\n") != 1 {
		t.Errorf("JSON miss: %d %q", rec.Code, rec.Body)
	}
}

func TestFormPage(t *testing.T) {
	h, _ := newTestHandler(t, Config{MaxSize: 12345})
	body := getWith(h, "/").Body.String()
	for _, want := range []string{
		`name="paste"`, `data-max-size="12345"`, `<option value="">No highlighting</option>`,
		`<option value="go">Go</option>`, `<option value="xml">HTML, XML</option>`,
		`name="ln"`, `name="raw"`, `name="encrypted" id="encrypted" checked`, `name="user"`, `name="comment"`,
		`id="password"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	if n := strings.Count(body, "<option "); n != len(languageTable)+1+len(h.expiries()) {
		t.Errorf("%d options, want every language and none, and the expiries: %d", n, len(languageTable)+1+len(h.expiries()))
	}
	if strings.Contains(body, `name="password"`) {
		t.Error("the password field has a name: a form post would send it")
	}
}
