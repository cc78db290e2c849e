package client

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
	"github.com/pasteur-dev/pasteur/seal"
)

// The original's test vectors of docs/FORMAT.md: the key 0x00 … 0x0f in
// its fragment form, and the text under the fixed IV and under the IV
// 0xa0 … 0xaf written in front.
const (
	originalText     = "hello, pasteur\r\n\t🦀\n"
	originalFragment = "eyJhbGciOiJBMTI4Q0JDIiwiZXh0Ijp0cnVlLCJrIjoiQUFFQ0F3UUZCZ2NJQ1FvTERBME9EdyIsImtleV9vcHMiOlsiZW5jcnlwdCIsImRlY3J5cHQiXSwia3R5Ijoib2N0In0="
	originalFixed    = "6e9a69f7135407605f709b0719a118894192c7a2f316154eb17781f114b051e2"
	originalNewest   = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf43a23809a0c26bc7161d8ada90cfd9de89655d74f19e1b7dda9fa489d57668f1"
)

// TestGetOriginal: the original pasteur's links, /ID#BASE64JWK, open its
// encrypted pastes of both IV conventions, with pasteur's line selections
// too; a wrong key says so.
func TestGetOriginal(t *testing.T) {
	srv, st := pastetest.NewServer(t)
	ctx := context.Background()
	for id, c := range map[string]string{"Ab3": originalFixed, "x_-Z": originalNewest} {
		if err := st.Create(ctx, &paste.Paste{ID: id, Contents: []byte(c), Encrypted: true}); err != nil {
			t.Fatal(err)
		}
	}
	c := &Client{HTTP: srv.Client()}
	for _, u := range []string{
		srv.URL + "/Ab3#" + originalFragment,
		srv.URL + "/Ab3?hl=go&ln=true#" + originalFragment,
		srv.URL + "/x_-Z#" + originalFragment,
		srv.URL + "/x_-Z#" + strings.TrimRight(originalFragment, "=") + "-L2",
		srv.URL + "/Ab3#" + strings.ReplaceAll(originalFragment, "=", "%3D"),
	} {
		p, err := c.Get(ctx, u, GetOptions{})
		if err != nil || string(p.Text) != originalText || !p.Encrypted {
			t.Errorf("Get(%s) = %+v, %v", u, p, err)
		}
	}
	other := strings.Replace(originalFragment, "QUFFQ0F3UUZCZ2NJQ1FvTERBME9Edy", "QkFFQ0F3UUZCZ2NJQ1FvTERBME9Edy", 1) // k starts with 0x04
	if _, err := c.Get(ctx, srv.URL+"/Ab3#"+other, GetOptions{}); !errors.Is(err, seal.ErrDecrypt) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := c.Get(ctx, srv.URL+"/Ab3#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", GetOptions{}); !errors.Is(err, seal.ErrLegacyKey) {
		t.Errorf("a pasteur key for an original paste: %v", err)
	}
}

// FuzzParseFragment: any fragment parses without panicking into a key
// that is a prefix of it (all of it, or all but a final dash, when it
// names no lines) and an ordered line range.
func FuzzParseFragment(f *testing.F) {
	for _, s := range []string{"", "L1", "L2-L9", originalFragment, originalFragment + "-L3-L5", originalFragment[:60] + "-L3",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8-L12", "e30=-L1", "-L", "%3D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, from, to := ParseFragment(s)
		if !strings.HasPrefix(s, key) || from > to || from < 0 || (from == 0) != (to == 0) {
			t.Fatalf("ParseFragment(%q) = %q, %d, %d", s, key, from, to)
		}
		if from == 0 && key != s && key+"-" != s {
			t.Fatalf("ParseFragment(%q) = %q with no lines: the key is not all of it", s, key)
		}
	})
}
