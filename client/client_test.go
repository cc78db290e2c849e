package client

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/internal/testlog"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
	"github.com/pasteur-dev/pasteur/paste/web"
	"github.com/pasteur-dev/pasteur/seal"
)

// texts are the pastes every round trip checks, byte for byte.
func texts() map[string][]byte {
	mib := bytes.Repeat([]byte("0123456789abcdef\r\n\tü🦀 "), paste.DefaultMaxSize/26)
	mib = append(mib, bytes.Repeat([]byte("x"), paste.DefaultMaxSize-len(mib))...)
	return map[string][]byte{
		"utf-8":         []byte("héllo wörld ñ 日本語\n"),
		"crlf":          []byte("a\r\nb\r\n\r\n"),
		"tabs":          []byte("\tindented\n\t\tmore\t\n"),
		"emoji":         []byte("🦀🔑👩‍👩‍👧 ✓"),
		"no final line": []byte("no newline at the end"),
		"leading blank": []byte("\n\nafter two blank lines"),
		"1 MiB":         mib,
	}
}

func TestRoundTrip(t *testing.T) {
	srv, st := pastetest.NewServer(t)
	c := &Client{HTTP: srv.Client()}
	ctx := context.Background()
	for name, text := range texts() {
		for _, mode := range []struct {
			name string
			opt  PutOptions
		}{
			{"clear", PutOptions{}},
			{"encrypted", PutOptions{Encrypt: true}},
			{"password", PutOptions{Password: "pässwörd", Iterations: seal.MinIterations}},
		} {
			t.Run(name+"/"+mode.name, func(t *testing.T) {
				u, err := c.Put(ctx, srv.URL, text, mode.opt)
				if err != nil {
					t.Fatal(err)
				}
				loc, err := ParseURL(u)
				if err != nil {
					t.Fatal(err)
				}
				encrypted := mode.name != "clear"
				if (loc.Key != "") != encrypted {
					t.Fatalf("URL %s: key %q", u, loc.Key)
				}
				stored := st.Pastes()[loc.ID]
				if stored.Encrypted != encrypted || encrypted && bytes.Contains(stored.Contents, text[:min(len(text), 8)]) {
					t.Fatalf("stored encrypted=%v: %.60q", stored.Encrypted, stored.Contents)
				}
				got, err := c.Get(ctx, u, GetOptions{Password: func() (string, error) { return mode.opt.Password, nil }})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Text, text) || got.Encrypted != encrypted {
					t.Fatalf("got %d bytes (encrypted %v), want %d", len(got.Text), got.Encrypted, len(text))
				}
			})
		}
	}
}

func TestPutURL(t *testing.T) {
	srv, _ := pastetest.NewServer(t)
	c := &Client{HTTP: srv.Client()}
	ctx := context.Background()
	tests := []struct {
		opt  PutOptions
		want string // the URL after the id
	}{
		{PutOptions{}, ""},
		{PutOptions{Language: "golang", Lines: true}, "?hl=go&ln=true"},
		{PutOptions{Language: "klingon"}, ""},
		{PutOptions{Language: "go", Raw: true}, "?raw=true"},
	}
	for _, tt := range tests {
		u, err := c.Put(ctx, srv.URL, []byte("x"), tt.opt)
		if err != nil {
			t.Fatal(err)
		}
		loc, _ := ParseURL(u)
		if u != srv.URL+"/"+loc.ID+tt.want {
			t.Errorf("%+v: got %s, want %s/ID%s", tt.opt, u, srv.URL, tt.want)
		}
	}
	u, err := c.Put(ctx, srv.URL+"/", []byte("x"), PutOptions{Encrypt: true, Language: "go", Lines: true})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := ParseURL(u)
	if !strings.HasSuffix(u, "?hl=go&ln=true#"+loc.Key) || len(loc.Key) != 43 {
		t.Errorf("encrypted URL %s", u)
	}
}

func TestPathPrefix(t *testing.T) {
	st := &pastetest.Store{}
	h, _ := web.NewHandler(web.Config{Store: st, Logger: testlog.New(t)})
	srv := httptest.NewServer(http.StripPrefix("/paste", h))
	defer srv.Close()
	c := &Client{HTTP: srv.Client()}
	u, err := c.Put(context.Background(), srv.URL+"/paste", []byte("x"), PutOptions{Encrypt: true})
	if err != nil || !strings.HasPrefix(u, srv.URL+"/paste/") {
		t.Fatalf("%s %v", u, err)
	}
	if p, err := c.Get(context.Background(), u, GetOptions{}); err != nil || string(p.Text) != "x" {
		t.Fatalf("%v", err)
	}
}

func TestPutRefusals(t *testing.T) {
	srv, st := pastetest.NewServer(t)
	c := &Client{HTTP: srv.Client()}
	ctx := context.Background()
	big := bytes.Repeat([]byte("a"), paste.DefaultMaxSize+1)
	var se *ServerError
	if _, err := c.Put(ctx, srv.URL, big, PutOptions{}); !errors.As(err, &se) || se.Status != 413 || !strings.Contains(err.Error(), "limit") {
		t.Errorf("too large: %v", err)
	}
	if _, err := c.Put(ctx, srv.URL, big, PutOptions{Encrypt: true}); !errors.As(err, &se) || se.Status != 413 {
		t.Errorf("too large, encrypted: %v", err)
	}
	if _, err := c.Put(ctx, srv.URL, []byte("\xff"), PutOptions{Encrypt: true}); !errors.Is(err, ErrNotText) {
		t.Errorf("not UTF-8: %v", err)
	}
	if _, err := c.Put(ctx, srv.URL, nil, PutOptions{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	for _, base := range []string{"", "127.0.0.1:4343", "ftp://host/", "http://"} {
		if _, err := c.Put(ctx, base, []byte("x"), PutOptions{}); !errors.Is(err, ErrBadURL) {
			t.Errorf("server %q: %v", base, err)
		}
	}
	if n := len(st.Pastes()); n != 0 {
		t.Errorf("%d pastes stored", n)
	}
}

func TestGetFailures(t *testing.T) {
	srv, _ := pastetest.NewServer(t)
	c := &Client{HTTP: srv.Client()}
	ctx := context.Background()
	u, err := c.Put(ctx, srv.URL, []byte("secret"), PutOptions{Encrypt: true})
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.Put(ctx, srv.URL, []byte("secret"), PutOptions{Password: "pw", Iterations: seal.MinIterations})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := seal.NewKey()
	base, _, _ := strings.Cut(u, "#")
	tests := []struct {
		name, url string
		password  func() (string, error)
		want      error
	}{
		{"no key", base, nil, ErrNoKey},
		{"wrong key", base + "#" + other.String(), nil, seal.ErrDecrypt},
		{"wrong key with a line", base + "#" + other.String() + "-L3", nil, seal.ErrDecrypt},
		{"damaged key", u[:len(u)-1], nil, nil}, // any error
		{"no password", pw, nil, seal.ErrPasswordRequired},
		{"wrong password", pw, func() (string, error) { return "PW", nil }, seal.ErrDecrypt},
		{"no such paste", srv.URL + "/nosuchpaste", nil, ErrNotFound},
		{"not a URL", "nosuchpaste", nil, ErrBadURL},
		{"no id", srv.URL + "/", nil, ErrBadURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(ctx, tt.url, GetOptions{Password: tt.password})
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// The key still works with a line selection after it.
	if p, err := c.Get(ctx, u+"-L1", GetOptions{}); err != nil || string(p.Text) != "secret" {
		t.Fatalf("key with a line: %v", err)
	}
}

func TestParseFragment(t *testing.T) {
	key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	dashy := "-AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-L1" // a key may hold dashes
	tests := []struct {
		in       string
		key      string
		from, to int
	}{
		{"", "", 0, 0},
		{key, key, 0, 0},
		{key + "-L12", key, 12, 12},
		{key + "L12", key, 12, 12},
		{key + "-L12-L20", key, 12, 20},
		{key + "-L20-L12", key, 12, 20},
		{key + "-L12-20", key, 12, 20},
		{"L7", "", 7, 7},
		{"L7-L9", "", 7, 9},
		{dashy, dashy, 0, 0},
		{dashy + "-L2", dashy, 2, 2},
		{key + "-x", key + "-x", 0, 0}, // damaged: all of it is the key
		{key[:40], key[:40], 0, 0},
		{"L0", "L0", 0, 0},
		{"L07", "L07", 0, 0},
		{key + "-L", key + "-L", 0, 0},
		{originalFragment, originalFragment, 0, 0},
		{originalFragment + "-L3", originalFragment, 3, 3},
		{originalFragment + "-L3-L5", originalFragment, 3, 5},
		{originalFragment[:60] + "-L3", originalFragment[:60], 3, 3}, // cut short: fails as a wrong key
	}
	for _, tt := range tests {
		k, from, to := ParseFragment(tt.in)
		if k != tt.key || from != tt.from || to != tt.to {
			t.Errorf("ParseFragment(%q) = %q, %d, %d; want %q, %d, %d", tt.in, k, from, to, tt.key, tt.from, tt.to)
		}
	}
}
