package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
)

func (m *memStore) Remove(_ context.Context, id string, _ paste.Reason) error {
	_, err := m.Burn(context.Background(), id)
	return err
}

func (m *memStore) Burn(_ context.Context, id string) (*paste.Paste, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pastes[id]
	switch {
	case m.gone[id]:
		return nil, fmt.Errorf("burn %s: %w", id, paste.ErrGone)
	case !ok:
		return nil, fmt.Errorf("burn %s: %w", id, paste.ErrNotFound)
	}
	if m.gone == nil {
		m.gone = map[string]bool{}
	}
	m.gone[id] = true
	c := *p
	return &c, nil
}

func do(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCreateLife(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		cfg     Config
		fields  map[string]string
		status  int
		expires time.Duration // 0: never
		burn    bool
	}{
		{"default never", Config{}, map[string]string{"paste": "x"}, 200, 0, false},
		{"10m", Config{}, map[string]string{"paste": "x", "expire": "10m"}, 200, 10 * time.Minute, false},
		{"1y and burn", Config{}, map[string]string{"paste": "x", "expire": "1y", "burn": "on"}, 200, 365 * 24 * time.Hour, true},
		{"server default", Config{DefaultExpiry: time.Hour}, map[string]string{"paste": "x"}, 200, time.Hour, false},
		{"never asked with a default", Config{DefaultExpiry: time.Hour}, map[string]string{"paste": "x", "expire": "never"}, 200, 0, false},
		{"over the maximum", Config{DefaultExpiry: time.Hour, MaxExpiry: 24 * time.Hour}, map[string]string{"paste": "x", "expire": "1w"}, 400, 0, false},
		{"never over a maximum", Config{DefaultExpiry: time.Hour, MaxExpiry: 24 * time.Hour}, map[string]string{"paste": "x", "expire": "never"}, 400, 0, false},
		{"bad unit", Config{}, map[string]string{"paste": "x", "expire": "1x"}, 400, 0, false},
		{"zero", Config{}, map[string]string{"paste": "x", "expire": "0d"}, 400, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, st := newTestHandler(t, c.cfg)
			h.now = func() time.Time { return now }
			rec := post(t, h, c.fields, "application/json")
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if c.status != 200 {
				if n := strings.Count(strings.TrimSpace(rec.Body.String()), "\n"); n != 0 {
					t.Errorf("refusal is not one line: %q", rec.Body)
				}
				return
			}
			var a paste.CreateAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			p := st.pastes[a.Code]
			if a.DeleteToken == "" || len(a.DeleteToken) < 22 || !p.TokenMatches(a.DeleteToken) {
				t.Errorf("token %q does not match the stored hash %q", a.DeleteToken, p.DeleteHash)
			}
			if strings.Contains(p.DeleteHash, a.DeleteToken) {
				t.Errorf("the stored hash %q holds the token", p.DeleteHash)
			}
			var want time.Time
			if c.expires > 0 {
				want = now.Add(c.expires)
			}
			if !p.Expires.Equal(want) || (a.Expires == nil) != want.IsZero() || a.Expires != nil && !a.Expires.Equal(want) {
				t.Errorf("expires: stored %v, answered %v, want %v", p.Expires, a.Expires, want)
			}
			if p.Burn != c.burn || a.Burn != c.burn {
				t.Errorf("burn: stored %v, answered %v, want %v", p.Burn, a.Burn, c.burn)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	put(st, &paste.Paste{ID: "mine", Contents: []byte("x"), DeleteHash: paste.HashToken("secret")})
	put(st, &paste.Paste{ID: "old", Contents: []byte("x")}) // no token
	for _, c := range []struct {
		id, auth string
		status   int
	}{
		{"mine", "", 403},
		{"mine", "Bearer wrong", 403},
		{"mine", "Basic secret", 403},
		{"old", "Bearer ", 403},
		{"nosuch", "Bearer secret", 404},
		{"mine", "bearer  secret ", 204},
		{"mine", "Bearer secret", 410},
	} {
		rec := do(h, "DELETE", "/"+c.id, "Authorization", c.auth)
		if rec.Code != c.status {
			t.Errorf("DELETE /%s with %q: %d, want %d: %s", c.id, c.auth, rec.Code, c.status, rec.Body)
		}
	}
	if rec := getWith(h, "/mine?raw=true"); rec.Code != 410 {
		t.Errorf("GET after delete: %d, want 410", rec.Code)
	}
}

func TestBurnReads(t *testing.T) {
	for _, c := range []struct {
		name   string
		target string
		header []string
		burns  bool
	}{
		{"page asks first", "/b", []string{"Accept", browserAccept}, false},
		{"HEAD burns nothing", "/b?raw=true", nil, false},
		{"raw", "/b?raw=true", nil, true},
		{"JSON", "/b", []string{"Accept", "application/json"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, st := newTestHandler(t, Config{})
			put(st, &paste.Paste{ID: "b", Contents: []byte("the secret"), Burn: true})
			method := "GET"
			if strings.HasPrefix(c.name, "HEAD") {
				method = "HEAD"
			}
			rec := do(h, method, c.target, c.header...)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := strings.Contains(rec.Body.String(), "the secret"); got != c.burns {
				t.Errorf("the answer holds the text: %v, want %v", got, c.burns)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			again := getWith(h, "/b?raw=true")
			if gone := again.Code == 410; gone != c.burns {
				t.Errorf("a second read: %d", again.Code)
			}
			if !c.burns && !strings.Contains(again.Body.String(), "the secret") {
				t.Errorf("the second read did not deliver: %s", again.Body)
			}
		})
	}
}

func TestBurnPage(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	put(st, &paste.Paste{ID: "b", Contents: []byte("the <secret>"), Burn: true, Language: "go"})
	page := getWith(h, "/b", "Accept", browserAccept)
	body := page.Body.String()
	if !strings.Contains(body, "deleted once read") || !strings.Contains(body, `action="/b"`) || strings.Contains(body, "secret") {
		t.Fatalf("the page does not ask, or shows the text:\n%s", body)
	}
	rec := do(h, "POST", "/b", "Accept", browserAccept)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "the &lt;secret&gt;") {
		t.Fatalf("POST /b: %d\n%s", rec.Code, rec.Body)
	}
	if rec := do(h, "POST", "/b"); rec.Code != 410 {
		t.Errorf("second POST /b: %d, want 410", rec.Code)
	}
}

// FuzzBearer: the Authorization header of DELETE /ID yields a token only
// for the Bearer scheme (in any case), trimmed.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  abc ", "Basic abc", "Bearer", "Bearer ", "", " Bearer x y", "BEARER\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		token, ok := bearer(h)
		if !ok {
			if token != "" {
				t.Fatalf("bearer(%q) = %q without ok", h, token)
			}
			return
		}
		if token != strings.TrimSpace(token) || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(h)), "bearer ") {
			t.Fatalf("bearer(%q) = %q", h, token)
		}
	})
}

// TestBurnReadOnlyBurns: POST /ID, the button of a burn paste's page,
// burns only a paste that burns after reading; any other is refused and
// left as it was (removing it takes its token: DELETE /ID).
func TestBurnReadOnlyBurns(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	put(st, &paste.Paste{ID: "kept", Contents: []byte("the text")})
	rec := do(h, "POST", "/kept", "Accept", browserAccept)
	if rec.Code != http.StatusMethodNotAllowed || strings.Contains(rec.Body.String(), "the text") {
		t.Errorf("POST /kept: %d, want 405\n%s", rec.Code, rec.Body)
	}
	if again := getWith(h, "/kept?raw=true"); again.Code != 200 || again.Body.String() != "the text" {
		t.Fatalf("POST /kept removed the paste: %d %s", again.Code, again.Body)
	}
	if rec := do(h, "POST", "/nope"); rec.Code != 404 {
		t.Errorf("POST /nope: %d, want 404", rec.Code)
	}
}

// TestBurnReadIsWhole: the read that burns a paste delivers all of it,
// whatever the request's Range or conditions: a 206 of a few bytes, a
// 304 or a 412 would burn the paste and deliver less, or nothing.
func TestBurnReadIsWhole(t *testing.T) {
	for _, header := range [][]string{
		{"Range", "bytes=0-2"},
		{"Range", "bytes=0-2,4-5"},
		{"If-None-Match", "*"},
		{"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"},
		{"If-Unmodified-Since", "Fri, 01 Jan 1999 00:00:00 GMT"},
		{"If-Match", `"x"`},
		{"Range", "bytes=0-2", "If-Range", "Fri, 01 Jan 2100 00:00:00 GMT"},
	} {
		h, st := newTestHandler(t, Config{})
		put(st, &paste.Paste{ID: "b", Contents: []byte("the secret"), Burn: true, Created: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)})
		rec := do(h, "GET", "/b?raw=true", header...)
		if rec.Code != 200 || rec.Body.String() != "the secret" {
			t.Errorf("%q: %d %q, want 200 and the whole text", header, rec.Code, rec.Body)
		}
		if again := getWith(h, "/b?raw=true"); again.Code != 410 {
			t.Errorf("%q: a second read: %d, want 410", header, again.Code)
		}
	}
}

// TestShownPasteRevalidated: every form of a paste is answered so that a
// cache (the browser's, a proxy in front of the server) asks again before
// it serves it: a paste may be deleted or expire at any time. The raw
// text carries Last-Modified, from which caches would otherwise keep it
// fresh for a tenth of its age, serving it on after its deletion.
func TestShownPasteRevalidated(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	put(st, &paste.Paste{ID: "kept", Contents: []byte("x"), Created: time.Now().Add(-240 * time.Hour)})
	for _, c := range []struct {
		target string
		header []string
	}{
		{"/kept?raw=true", nil},
		{"/kept", []string{"Accept", "application/json"}},
		{"/kept", []string{"Accept", browserAccept}},
	} {
		rec := getWith(h, c.target, c.header...)
		if rec.Code != 200 {
			t.Fatalf("GET %s %v: %d", c.target, c.header, rec.Code)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s %v: Cache-Control %q, want no-cache", c.target, c.header, cc)
		}
	}
	rec := getWith(h, "/kept?raw=true", "If-Modified-Since", time.Now().UTC().Format(http.TimeFormat))
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidation of a kept paste: %d, want 304", rec.Code)
	}
}

// TestDeleteTokenHeader: a DELETE whose Authorization carries a user's
// basic credentials (a server whose reading needs a user) gives its token
// in Pasteur-Delete-Token.
func TestDeleteTokenHeader(t *testing.T) {
	h, st := newTestHandler(t, Config{})
	put(st, &paste.Paste{ID: "mine", Contents: []byte("x"), DeleteHash: paste.HashToken("secret")})
	basic := "Basic YWxpY2U6czNjcmV0"
	for _, c := range []struct {
		header []string
		status int
	}{
		{[]string{"Authorization", basic}, 403},
		{[]string{"Authorization", basic, paste.DeleteTokenHeader, "wrong"}, 403},
		{[]string{"Authorization", basic, paste.DeleteTokenHeader, " secret "}, 204},
		{[]string{paste.DeleteTokenHeader, "secret"}, 410},
	} {
		if rec := do(h, "DELETE", "/mine", c.header...); rec.Code != c.status {
			t.Errorf("DELETE with %q: %d, want %d: %s", c.header, rec.Code, c.status, rec.Body)
		}
	}
}
