package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pasteur-dev/pasteur/seal"
)

// originalEncrypt is the original pasteur's page script (js/pasteur_js.ml),
// as JavaScript: WebCrypto AES-CBC under a 128-bit key (generated, or the
// raw bytes given), the text's UTF-8 encrypted with the fixed IV or, as its
// newest version does, a random IV (or the one given) written in front;
// the ciphertext in lower-case hex; the key exported as a JWK, JSON-encoded
// and base64-encoded (btoa: standard alphabet, padded) for the fragment.
const originalEncrypt = `async function originalEncrypt(text, rawKey, iv) {
  const subtle = crypto.subtle;
  const algo = { name: "AES-CBC", length: 128 };
  const key = rawKey
    ? await subtle.importKey("raw", new Uint8Array(rawKey), algo, true, ["encrypt", "decrypt"])
    : await subtle.generateKey(algo, true, ["encrypt", "decrypt"]);
  const fixed = new Uint8Array([0x48, 0x3b, 0x2e, 0xc4, 0x44, 0x0d, 0x2c, 0xb0, 0x46, 0xf4, 0xd5, 0x76, 0xa1, 0x94, 0x26, 0x0d]);
  let prefix = new Uint8Array(0), use = fixed;
  if (iv === "random") {
    use = crypto.getRandomValues(new Uint8Array(16));
    prefix = use;
  } else if (iv) {
    use = new Uint8Array(iv);
    prefix = use;
  }
  const ct = new Uint8Array(await subtle.encrypt({ name: "AES-CBC", iv: use }, key, new TextEncoder().encode(text)));
  const hex = (a) => Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  const jwk = await subtle.exportKey("jwk", key);
  return { contents: hex(prefix) + hex(ct), fragment: btoa(JSON.stringify(jwk)) };
}`

// legacyPaste is an encrypted paste as the original wrote it.
type legacyPaste struct {
	Contents string `json:"contents"` // hex
	Fragment string `json:"fragment"` // base64 of the JWK
}

// originalPage serves a blank page on loopback: a secure context, where
// WebCrypto works.
func originalPage(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>original</title>")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// encryptOriginal encrypts text in the tab, which shows a secure page, the
// original's way. key is nil for a generated key; iv is "" for the fixed
// IV, "random", or a JavaScript array of 16 bytes.
func (b *tab) encryptOriginal(text string, key []byte, iv string) legacyPaste {
	b.t.Helper()
	k := "null"
	if key != nil {
		k = strings.ReplaceAll(fmt.Sprint(key), " ", ",")
	}
	ivArg := `""`
	switch {
	case iv == "random":
		ivArg = `"random"`
	case iv != "":
		ivArg = iv
	}
	var p legacyPaste
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	expr := fmt.Sprintf("%s\noriginalEncrypt(%s, %s, %s)", originalEncrypt, jsString(text), k, ivArg)
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err == nil {
		err = json.Unmarshal(raw, &p)
	}
	if err != nil {
		b.t.Fatalf("encrypt the original's way: %v", err)
	}
	return p
}

// jsString quotes s for JavaScript source.
func jsString(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			sb.WriteString(`\` + string(r))
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r1, r2 := 0xd800+((r-0x10000)>>10), 0xdc00+((r-0x10000)&0x3ff)
				fmt.Fprintf(&sb, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&sb, `\u%04x`, r)
			}
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// The test vectors of docs/FORMAT.md, "The original's format".
var (
	legacyVectorKey  = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	legacyVectorText = "hello, pasteur\r\n\t🦀\n"
	legacyVectorIV   = "[160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175]"
)

// TestLegacyVectors: chromium's WebCrypto, driven the original's way,
// makes exactly docs/FORMAT.md's test vectors of the original's format,
// and seal reads them and a generated key's paste.
func TestLegacyVectors(t *testing.T) {
	c := newChrome(t)
	b := c.tab(t)
	b.do(chromedp.Navigate(originalPage(t)))
	fixed := b.encryptOriginal(legacyVectorText, legacyVectorKey, "")
	newest := b.encryptOriginal(legacyVectorText, legacyVectorKey, legacyVectorIV)
	t.Logf("fragment %s", fixed.Fragment)
	t.Logf("fixed IV %s", fixed.Contents)
	t.Logf("newest   %s", newest.Contents)
	doc := readFile(t, "../docs/FORMAT.md")
	for _, v := range []string{fixed.Fragment, fixed.Contents, newest.Contents} {
		if !strings.Contains(doc, v) {
			t.Errorf("docs/FORMAT.md lacks the vector %s", v)
		}
	}
	for i := 0; i < 4; i++ {
		for _, iv := range []string{"", "random"} {
			p := b.encryptOriginal(legacyVectorText, nil, iv)
			key, err := seal.ParseLegacyKey(p.Fragment)
			if err != nil {
				t.Fatalf("%s: %v", p.Fragment, err)
			}
			got, err := seal.OpenLegacy(p.Contents, key)
			if err != nil || string(got) != legacyVectorText {
				t.Errorf("iv %q: %q, %v", iv, got, err)
			}
		}
	}
	c.checkQuiet(t)
}
