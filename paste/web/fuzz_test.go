package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/seal"
)

// fuzzHandler is a handler with a small size limit, so that a fuzzer
// reaches it, over a store that holds a clear and an encrypted paste.
func fuzzHandler(f *testing.F) *Handler {
	st := &memStore{pastes: map[string]*paste.Paste{}}
	h, err := NewHandler(Config{Store: st, MaxSize: 64})
	if err != nil {
		f.Fatal(err)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	k, _ := seal.NewKey()
	env, _ := seal.Seal([]byte("secret"), k, "")
	put(st, &paste.Paste{ID: "clear", Contents: []byte("a <b>\r\n\tc 🦀"), Language: "go", User: "ann", Created: created})
	put(st, &paste.Paste{ID: "sealed", Contents: []byte(env), Encrypted: true, Created: created})
	return h
}

// FuzzSubmission: the parser of POST / takes any Content-Type, query and
// body, and either refuses with a 4xx or returns a paste that keeps every
// rule: within the size limit, UTF-8, not empty, a seal envelope when
// encrypted, a known language or none, one-line user and comment within
// their bounds.
func FuzzSubmission(f *testing.F) {
	h := fuzzHandler(f)
	k, _ := seal.NewKey()
	env, _ := seal.Seal([]byte("secret"), k, "")
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.SetBoundary("b0undary")
	for _, kv := range [][2]string{{"hl", "golang"}, {"ln", "on"}, {"user", " ann\x00 "}, {"comment", "a\r\nfix"}, {"paste", "x\r\ny"}} {
		mw.WriteField(kv[0], kv[1])
	}
	mw.Close()
	for _, s := range []struct{ ct, query, body string }{
		{mw.FormDataContentType(), "", mp.String()},
		{"multipart/form-data; boundary=b0undary", "encrypted=on", strings.ReplaceAll(mp.String(), "x\r\ny", env)},
		{"multipart/form-data", "", "--\r\n"},
		{"application/x-www-form-urlencoded", "hl=go", "paste=hello&ln=true&raw=1&user=a%00b"},
		{"application/x-www-form-urlencoded", "", "a=b&c=%zz"},
		{"application/x-www-form-urlencoded", "encrypted=yes", "paste=" + env},
		{"", "hl=C%2B%2B&user=ann&comment=x", "plain text body\n"},
		{"text/plain; charset=utf-8", "encrypted=1", env},
		{"text/plain", "", "\xff\xfe"},
		{"bad/;;", "", "x"},
	} {
		f.Add(s.ct, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct, query string, body []byte) {
		req, err := http.NewRequest("POST", "http://pasteur.test/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = query
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		sub, err := h.parseSubmission(rec, req)
		if err != nil {
			h.fail(rec, req, err)
			if rec.Code < 400 || rec.Code > 499 {
				t.Fatalf("refusal %d, want 4xx: %v", rec.Code, err)
			}
			return
		}
		size := len(sub.paste)
		if sub.encrypted {
			e, err := seal.Parse(string(sub.paste))
			if err != nil {
				t.Fatalf("encrypted paste %q is not an envelope: %v", sub.paste, err)
			}
			size = e.PlaintextLen()
		}
		if size == 0 || int64(size) > h.maxSize || !utf8.Valid(sub.paste) {
			t.Fatalf("paste %q (size %d) passed", sub.paste, size)
		}
		if sub.language != "" {
			if name, ok := h.langs.Lookup(sub.language); !ok || name != sub.language {
				t.Fatalf("language %q passed", sub.language)
			}
		}
		checkLine(t, "user", sub.user, maxUser)
		checkLine(t, "comment", sub.comment, maxComment)
	})
}

// checkLine fails t unless v is one line of at most max bytes of UTF-8,
// trimmed, without control characters or runs of space.
func checkLine(t *testing.T, name, v string, max int) {
	t.Helper()
	bad := len(v) > max || !utf8.ValidString(v) || strings.TrimSpace(v) != v || strings.Contains(v, "  ")
	for _, c := range v {
		if unicode.IsControl(c) || c != ' ' && unicode.IsSpace(c) {
			bad = true
		}
	}
	if bad {
		t.Fatalf("%s %q passed", name, v)
	}
}

// FuzzShow: GET /ID answers any id, query and Accept header without a
// server error, and the query counts only through the options it names
// (hl, ln, raw, format): the answer equals the one to the same options written
// plainly, so nothing else of the query reaches the page. (Redirects to a
// clean path are ServeMux's and keep the query.)
func FuzzShow(f *testing.F) {
	h := fuzzHandler(f)
	for _, s := range []struct{ id, query, accept string }{
		{"clear", "", browserAccept},
		{"clear", "hl=golang&ln=on", ""},
		{"clear", "raw=true", "text/plain"},
		{"clear", "hl=%3Cscript%3E&ln=1&x=%22", browserAccept},
		{"sealed", "raw=yes", browserAccept},
		{"sealed", "raw=1", "*/*"},
		{"clear", "", "application/json"},
		{"nosuchpaste", "ln=true", ""},
		{"a/b", "", ""},
		{"..", "hl=;;", ""},
		{"clear", "hl=go&hl=rust&ln=off&ln=on", ""},
		{"clear", "raw", ""},
		{"clear", "ln&raw=", browserAccept},
		{"clear", "format=json", ""},
		{"sealed", "raw&format=json", "*/*"},
	} {
		f.Add(s.id, s.query, s.accept)
	}
	serve := func(id, query, accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path, req.URL.RawPath, req.URL.RawQuery = "/"+id, "", query
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, id, query, accept string) {
		got := serve(id, query, accept)
		if got.Code >= 500 {
			t.Fatalf("GET /%s?%s: %d %s", id, query, got.Code, got.Body)
		}
		if got.Code/100 == 3 {
			return // ServeMux cleaning the path: it keeps the query as it is
		}
		q, _ := url.ParseQuery(query)
		plain := url.Values{}
		if hl := h.language(q.Get("hl")); hl != "" {
			plain.Set("hl", hl)
		}
		for _, k := range []string{"ln", "raw"} {
			if queryOn(q, k) {
				plain.Set(k, "true")
			}
		}
		if q.Get("format") == "json" {
			plain.Set("format", "json")
		}
		want := serve(id, plain.Encode(), accept)
		if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Fatalf("GET /%s?%s: %d %.200q\nwith ?%s: %d %.200q", id, query, got.Code, got.Body, plain.Encode(), want.Code, want.Body)
		}
	})
}
