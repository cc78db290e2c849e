package web

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/paste"
)

// TestOriginalURLs: the original's links and habits: ?raw and ?ln with no
// value are on, ?raw=false is off, ids of its newest alphabet are read.
func TestOriginalURLs(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	put(st, &paste.Paste{ID: "a_-Z", Contents: []byte("one\ntwo\n")})
	for _, tt := range []struct {
		target, accept string
		raw, lines     bool
	}{
		{"/a_-Z?raw", browserAccept, true, false},
		{"/a_-Z?raw=", "*/*", true, false},
		{"/a_-Z?raw=true&ln", browserAccept, true, false},
		{"/a_-Z?raw=false", browserAccept, false, false},
		{"/a_-Z?ln", browserAccept, false, true},
		{"/a_-Z?ln=false", browserAccept, false, false},
		{"/a_-Z?hl=go&ln", browserAccept, false, true},
	} {
		rec := getWith(h, tt.target, "Accept", tt.accept)
		if rec.Code != 200 {
			t.Fatalf("%s: %d", tt.target, rec.Code)
		}
		body := rec.Body.String()
		if raw := body == "one\ntwo\n"; raw != tt.raw {
			t.Errorf("%s: raw %v, want %v", tt.target, raw, tt.raw)
		}
		if lines := strings.Contains(body, `data-ln="true"`); lines != tt.lines {
			t.Errorf("%s: line numbers %v, want %v", tt.target, lines, tt.lines)
		}
	}
	for _, asset := range []string{"/pasteur.js", "/highlight.js", "/pastisserie.css"} {
		if rec := getWith(h, asset); rec.Code != 404 {
			t.Errorf("%s: %d, want 404", asset, rec.Code)
		}
	}
}

// TestFormatJSON: ?format=json is Accept: application/json for clients
// that cannot set headers, on POST and GET; the JSON and the raw text of
// GET may be read from any origin, pages and POST answers may not.
func TestFormatJSON(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	body, ct := multipartBody(t, map[string]string{"paste": "x", "ln": "on"})
	req := httptest.NewRequest("POST", "http://paste.test/?format=json", body)
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var a paste.CreateAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || !a.LN || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("POST /?format=json: %q, %v", rec.Body, err)
	}
	if cors := rec.Header().Get("Access-Control-Allow-Origin"); cors != "" {
		t.Errorf("POST answer allows origin %q", cors)
	}
	if p := st.pastes[a.Code]; p == nil || string(p.Contents) != "x" {
		t.Fatalf("stored %+v", p)
	}
	rec = getWith(h, "/"+a.Code+"?format=json", "Accept", browserAccept)
	var d paste.Document
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || d.Contents != "x" {
		t.Fatalf("GET ?format=json: %q, %v", rec.Body, err)
	}
	for target, cors := range map[string]string{"/" + a.Code + "?format=json": "*", "/" + a.Code + "?raw": "*", "/" + a.Code: ""} {
		if got := getWith(h, target, "Accept", browserAccept).Header().Get("Access-Control-Allow-Origin"); got != cors {
			t.Errorf("GET %s: Access-Control-Allow-Origin %q, want %q", target, got, cors)
		}
	}
}

// TestJSONAnswers: with Config.JSONAnswers POST / answers as the git-era
// original did, whatever the client accepts.
func TestJSONAnswers(t *testing.T) {
	h, _ := newTestHandler(t, Config{JSONAnswers: true})
	for _, accept := range []string{"", "text/html", "application/json"} {
		rec := post(t, h, map[string]string{"paste": "x", "hl": "go"}, accept)
		var a map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || rec.Code != 200 {
			t.Fatalf("Accept %q: %d %q", accept, rec.Code, rec.Body)
		}
		if a["ln"] != false || a["raw"] != false || a["hl"] != "go" || len(a) != 4 {
			t.Errorf("Accept %q: %v", accept, a)
		}
		if rec.Header().Get("Access-Control-Allow-Origin") != "*" || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("Accept %q: %v", accept, rec.Header())
		}
	}
}

// TestTitle: --title and --subtitle head the pages.
func TestTitle(t *testing.T) {
	h, st := newTestHandler(t, Config{Title: "Past-isserie <3", Subtitle: "pastes & more"})
	put(st, &paste.Paste{ID: "abc", Contents: []byte("x")})
	form := getWith(h, "/").Body.String()
	for _, want := range []string{"<title>Past-isserie &lt;3</title>", `id="title" href="/">Past-isserie &lt;3</a>`, `id="subtitle">pastes &amp; more</span>`} {
		if !strings.Contains(form, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	if page := getWith(h, "/abc").Body.String(); !strings.Contains(page, "<title>Past-isserie &lt;3 · abc</title>") {
		t.Errorf("paste page's title:\n%s", page)
	}
	h, _ = newTestHandler(t, Config{})
	if form := getWith(h, "/").Body.String(); !strings.Contains(form, `>pasteur</a>`) {
		t.Error("the default title is not pasteur")
	}
}

// TestOriginalEncrypted: the original's encrypted paste (hex) goes to the
// page as it is stored, for the page script to decrypt.
func TestOriginalEncrypted(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	const hex = "6e9a69f7135407605f709b0719a118894192c7a2f316154eb17781f114b051e2"
	put(st, &paste.Paste{ID: "Ab3", Contents: []byte(hex), Encrypted: true})
	for _, target := range []string{"/Ab3", "/Ab3?raw"} {
		if page := getWith(h, target, "Accept", browserAccept).Body.String(); !strings.Contains(page, `data-envelope="`+hex+`"`) {
			t.Errorf("%s:\n%s", target, page)
		}
	}
}
