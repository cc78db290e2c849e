package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/seal"
)

// postRaw sends body with Content-Type ct ("" for none) to target.
func postRaw(h http.Handler, target, ct, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", target, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// stored returns the paste a one-line URL answer names.
func stored(t *testing.T, st *memStore, rec *httptest.ResponseRecorder) *paste.Paste {
	t.Helper()
	if rec.Code != 200 {
		t.Fatalf("got %d %q", rec.Code, rec.Body)
	}
	u := strings.TrimSpace(rec.Body.String())
	id := u[strings.LastIndex(u, "/")+1:]
	if i := strings.IndexByte(id, '?'); i >= 0 {
		id = id[:i]
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	p, ok := st.pastes[id]
	if !ok {
		t.Fatalf("%s is not stored (answer %q)", id, u)
	}
	return p
}

func envelopeOf(t *testing.T, text string) string {
	t.Helper()
	k, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	env, err := seal.Seal([]byte(text), k, "")
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestCreateFields(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	env := envelopeOf(t, "secret")
	tests := []struct {
		name   string
		fields map[string]string
		query  string
		check  func(t *testing.T, p *paste.Paste, url string)
	}{
		{"hl by name", map[string]string{"paste": "x", "hl": "go"}, "", func(t *testing.T, p *paste.Paste, u string) {
			if p.Language != "go" || !strings.HasSuffix(u, "?hl=go") {
				t.Errorf("language %q, url %s", p.Language, u)
			}
		}},
		{"hl by alias, any case", map[string]string{"paste": "x", "hl": " GoLang "}, "", func(t *testing.T, p *paste.Paste, _ string) {
			if p.Language != "go" {
				t.Errorf("language %q", p.Language)
			}
		}},
		{"hl c++ is cpp", map[string]string{"paste": "x", "hl": "c++"}, "", func(t *testing.T, p *paste.Paste, _ string) {
			if p.Language != "cpp" {
				t.Errorf("language %q", p.Language)
			}
		}},
		{"unknown hl is dropped", map[string]string{"paste": "x", "hl": "klingon"}, "", func(t *testing.T, p *paste.Paste, u string) {
			if p.Language != "" || strings.Contains(u, "hl=") {
				t.Errorf("language %q, url %s", p.Language, u)
			}
		}},
		{"hl with markup is dropped", map[string]string{"paste": "x", "hl": `go"><script>`}, "", func(t *testing.T, p *paste.Paste, _ string) {
			if p.Language != "" {
				t.Errorf("language %q", p.Language)
			}
		}},
		{"hl in the query", map[string]string{"paste": "x"}, "?hl=python", func(t *testing.T, p *paste.Paste, _ string) {
			if p.Language != "python" {
				t.Errorf("language %q", p.Language)
			}
		}},
		{"a form field wins over the query", map[string]string{"paste": "x", "hl": "rust"}, "?hl=python", func(t *testing.T, p *paste.Paste, _ string) {
			if p.Language != "rust" {
				t.Errorf("language %q", p.Language)
			}
		}},
		{"ln and raw", map[string]string{"paste": "x", "ln": "on", "raw": "true"}, "", func(t *testing.T, p *paste.Paste, u string) {
			if !strings.HasSuffix(u, "?ln=true&raw=true") {
				t.Errorf("url %s", u)
			}
		}},
		{"ln off", map[string]string{"paste": "x", "ln": "off", "raw": "false"}, "", func(t *testing.T, p *paste.Paste, u string) {
			if strings.Contains(u, "?") {
				t.Errorf("url %s", u)
			}
		}},
		{"present without a value is on", map[string]string{"paste": "x", "raw": ""}, "?ln", func(t *testing.T, p *paste.Paste, u string) {
			if !strings.HasSuffix(u, "?ln=true&raw=true") {
				t.Errorf("url %s", u)
			}
		}},
		{"encrypted envelope", map[string]string{"paste": env, "encrypted": "on"}, "", func(t *testing.T, p *paste.Paste, _ string) {
			if !p.Encrypted || string(p.Contents) != env {
				t.Errorf("encrypted %v, contents %q", p.Encrypted, p.Contents)
			}
		}},
		{"encrypted in the query", map[string]string{"paste": env}, "?encrypted=true", func(t *testing.T, p *paste.Paste, _ string) {
			if !p.Encrypted {
				t.Error("not encrypted")
			}
		}},
		{"user and comment are cleaned", map[string]string{"paste": "x", "user": " ann\x00\n smith\x1b[31m ", "comment": "fix\r\n\tthe  bug"}, "", func(t *testing.T, p *paste.Paste, _ string) {
			if p.User != "ann smith" || p.Comment != "fix the bug" {
				t.Errorf("user %q, comment %q", p.User, p.Comment)
			}
		}},
		{"user and comment are cut on a rune boundary", map[string]string{"paste": "x", "user": strings.Repeat("é", 40), "comment": strings.Repeat("🦀", 100)}, "", func(t *testing.T, p *paste.Paste, _ string) {
			if p.User != strings.Repeat("é", 32) || p.Comment != strings.Repeat("🦀", 64) {
				t.Errorf("user %d bytes, comment %d bytes", len(p.User), len(p.Comment))
			}
		}},
		{"invalid UTF-8 in user", map[string]string{"paste": "x", "user": "a\xffb"}, "", func(t *testing.T, p *paste.Paste, _ string) {
			if p.User != "a\uFFFDb" {
				t.Errorf("user %q", p.User)
			}
		}},
		{"unknown fields are ignored", map[string]string{"paste": "x", "expire": "1d"}, "", func(t *testing.T, p *paste.Paste, _ string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, tt.fields)
			req := httptest.NewRequest("POST", "http://paste.test/"+tt.query, body)
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			tt.check(t, stored(t, st, rec), strings.TrimSpace(rec.Body.String()))
		})
	}
}

// TestCreateBodies checks which bodies are forms and which are the paste.
func TestCreateBodies(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	text := "package main\r\n\tfunc main() {} // 🦀 é\n"
	tests := []struct {
		name, target, ct, body, want, lang string
	}{
		{"text/plain body", "/", "text/plain", text, text, ""},
		{"octet-stream body", "/", "application/octet-stream", text, text, ""},
		{"no content type", "/", "", text, text, ""},
		{"curl --data-binary: a urlencoded body that is no form", "/?hl=go", "application/x-www-form-urlencoded", text, text, "go"},
		{"a body with = and & but other keys", "/", "application/x-www-form-urlencoded", "a=b&c=d\n", "a=b&c=d\n", ""},
		{"a body with bad escapes", "/", "application/x-www-form-urlencoded", "100%zz & paste=1", "100%zz & paste=1", ""},
		{"a body naming paste and an unknown field", "/", "application/x-www-form-urlencoded", "paste=x&y=z", "paste=x&y=z", ""},
		{"a urlencoded form", "/", "application/x-www-form-urlencoded", "paste=a%0D%0Ab&hl=rust&user=ann", "a\r\nb", "rust"},
		{"a form answers with its fields", "/?hl=go", "application/x-www-form-urlencoded; charset=utf-8", "paste=x", "x", "go"},
		{"JSON is a paste too", "/", "application/json", `{"contents":"x"}`, `{"contents":"x"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := stored(t, st, postRaw(h, tt.target, tt.ct, tt.body))
			if string(p.Contents) != tt.want || p.Language != tt.lang {
				t.Fatalf("stored %q (hl %q), want %q (hl %q)", p.Contents, p.Language, tt.want, tt.lang)
			}
		})
	}
}

func TestCreateRefusals(t *testing.T) {
	const max = 100
	h, st := newTestHandler(t, Config{MaxSize: max})
	k, _ := seal.NewKey()
	sealed := func(n int) string {
		env, err := seal.Seal([]byte(strings.Repeat("s", n)), k, "")
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name   string
		ct     string
		target string
		body   string
		status int
		msg    string // in the one-line answer
	}{
		{"malformed content type", "text/", "/", "x", 400, "Content-Type"},
		{"malformed multipart", "multipart/form-data; boundary=zz", "/", "garbage", 400, "malformed form"},
		{"multipart without boundary", "multipart/form-data", "/", "x", 400, "boundary"},
		{"multipart without paste", "multipart/form-data; boundary=zz", "/", "--zz\r\nContent-Disposition: form-data; name=\"hl\"\r\n\r\ngo\r\n--zz--\r\n", 400, "missing form field paste"},
		{"empty form paste", form, "/", "paste=", 400, "empty"},
		{"empty body", "text/plain", "/", "", 400, "empty"},
		{"not UTF-8 in a form", form, "/", "paste=%ff%fe", 400, "UTF-8"},
		{"not UTF-8 raw", "application/octet-stream", "/", "\xff\xfe\x00", 400, "UTF-8"},
		{"one byte too large", form, "/", "paste=" + strings.Repeat("a", max+1), 413, "limit"},
		{"raw too large", "text/plain", "/", strings.Repeat("a", max+1), 413, ""},
		{"far too large", form, "/", "paste=" + strings.Repeat("a", 200<<10), 413, ""},
		{"encrypted but clear", form, "/", "paste=hello&encrypted=on", 400, "encrypted by the client"},
		{"encrypted raw but clear", "text/plain", "/?encrypted=true", "hello", 400, "encrypted by the client"},
		{"encrypted, empty inside", form, "/", "paste=" + sealed(0) + "&encrypted=on", 400, "empty"},
		{"encrypted, too large inside", form, "/", "paste=" + sealed(max+1) + "&encrypted=on", 413, ""},
		{"a long field", form, "/", "paste=x&user=" + strings.Repeat("u", 5<<10), 200, ""}, // urlencoded fields are cut, not refused
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := postRaw(h, tt.target, tt.ct, tt.body)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.msg) || strings.Count(rec.Body.String(), "\n") != 1 {
				t.Fatalf("got %d %q, want %d and one line with %q", rec.Code, rec.Body.String(), tt.status, tt.msg)
			}
		})
	}
	if n := len(st.pastes); n != 1 {
		t.Fatalf("stored %d pastes, want only the one with a long field", n)
	}
	if rec := post(t, h, map[string]string{"paste": "x", "comment": strings.Repeat("c", 5<<10)}, ""); rec.Code != 400 || !strings.Contains(rec.Body.String(), "comment") {
		t.Fatalf("multipart field over 4 KiB: %d %q", rec.Code, rec.Body)
	}
	if rec := post(t, h, map[string]string{"paste": strings.Repeat("a", max+1)}, ""); rec.Code != 413 {
		t.Fatalf("multipart oversize: got %d", rec.Code)
	}
	// The limits are inclusive, for clear and encrypted pastes.
	for _, fields := range []map[string]string{
		{"paste": strings.Repeat("a", max)},
		{"paste": sealed(max), "encrypted": "on"},
	} {
		if rec := post(t, h, fields, "application/json"); rec.Code != 200 {
			t.Fatalf("a paste of exactly the limit: %d %q", rec.Code, rec.Body)
		}
	}
}

func TestCreateJSONAnswer(t *testing.T) {
	h, _ := newTestHandler(t, Config{})
	rec := post(t, h, map[string]string{"paste": "x", "hl": "JS", "raw": "on", "encrypted": ""}, "application/json")
	var resp map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%v %v", err, rec.Header())
	}
	if len(resp) != 4 || resp["hl"] != "javascript" || resp["raw"] != true || resp["delete_token"] == "" {
		t.Fatalf("got %v", resp)
	}
	// The bytes are the original's, then the delete token: keys in this
	// order, off options left out.
	if want := `{"code":"` + resp["code"].(string) + `","hl":"javascript","raw":true,"delete_token":"` + resp["delete_token"].(string) + `"}` + "\n"; rec.Body.String() != want {
		t.Fatalf("got %q, want %q", rec.Body, want)
	}
}
