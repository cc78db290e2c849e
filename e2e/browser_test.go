package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests run pasteur on loopback and drive Debian's chromium
// through the website as a person would: the form, the paste page, its
// line links, encryption and decryption in the page, and pasteur put/get
// on the same pastes. PASTEUR_SCREENSHOTS=DIR also writes the README's
// screenshots into DIR.

// goSnippet is a clear paste typed into the text box: markup in it must
// show as text.
const goSnippet = "package main\n\nimport \"fmt\"\n\n// main greets <script>alert(1)</script> & friends.\nfunc main() {\n\tfor i := 0; i < 3; i++ {\n\t\tfmt.Println(\"héllo\", i) // <img src=x onerror=\"window.pwned=1\">\n\t}\n}\n"

// tricky is what must survive every path byte for byte.
const tricky = "first line\r\nsecond line, CRLF before\r\n\ttab\tinside\n  ünïcödé 日本語 😀🦀👩‍👩‍👧\n\nlast line without a newline"

// site is a running pasteur and the commands that reach it.
type site struct {
	t    *testing.T
	bin  string
	base string
}

func newSite(t *testing.T) *site {
	t.Helper()
	require(t, false, "git")
	bin := buildPasteur(t)
	port := freePort(t)
	startLocal(t, bin, "--port", strconv.Itoa(port), "--data", filepath.Join(t.TempDir(), "data"))
	return &site{t: t, bin: bin, base: "http://127.0.0.1:" + strconv.Itoa(port)}
}

// cli runs pasteur put or get with stdin and returns its standard output.
func (s *site) cli(stdin []byte, args ...string) []byte {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("pasteur %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// stored returns the paste as the server keeps it (GET /ID as JSON).
func (s *site) stored(pasteURL string) (contents string, encrypted bool) {
	s.t.Helper()
	u, _, _ := strings.Cut(pasteURL, "#")
	u, _, _ = strings.Cut(u, "?")
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "application/json")
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec struct {
		Contents  string `json:"contents"`
		Encrypted bool   `json:"encrypted"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || resp.StatusCode != 200 {
		s.t.Fatalf("GET %s as JSON: %d %v", u, resp.StatusCode, err)
	}
	return rec.Contents, rec.Encrypted
}

// status is the status of a request for the paste at pasteURL.
func (s *site) status(pasteURL, accept, method string) int {
	s.t.Helper()
	u, _, _ := strings.Cut(pasteURL, "#")
	u, _, _ = strings.Cut(u, "?")
	req, _ := http.NewRequest(method, u, nil)
	req.Header.Set("Accept", accept)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// submitForm fills the form at / and posts it; it returns the URL the page
// goes to. fill sets the fields; Encrypted is ticked unless clear is set.
func (s *site) submitForm(b *tab, clear bool, fill ...chromedp.Action[chromedp.Void]) string {
	s.t.Helper()
	b.do(chromedp.Navigate(s.base + "/"))
	b.waitFor(`document.readyState === "complete"`)
	b.do(fill...)
	if clear {
		b.do(chromedp.Click(chromedp.ID("encrypted")))
	}
	b.do(chromedp.Click(chromedp.ID("submit")))
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		var path string
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`location.pathname`))
		cancel()
		if err == nil && json.Unmarshal(raw, &path) == nil && path != "/" {
			b.waitSettled()
			return b.location()
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("the form did not go to the paste; status: %q", b.evalString(`document.getElementById("status").textContent`))
	return ""
}

func TestBrowser(t *testing.T) {
	s := newSite(t)
	c := newChrome(t)
	defer c.checkQuiet(t)

	t.Run("clear paste through the form", func(t *testing.T) {
		b := c.tab(t)
		u := s.submitForm(b, true,
			chromedp.SetValue(chromedp.ID("text"), goSnippet),
			chromedp.SetValue(chromedp.ID("hl"), "go"),
			chromedp.Click(chromedp.ID("ln")),
			chromedp.SetValue(chromedp.ID("user"), "ann <b>"),
			chromedp.SetValue(chromedp.ID("comment"), "a <i>test</i>"),
		)
		if !strings.HasSuffix(u, "?hl=go&ln=true") {
			t.Fatalf("went to %s, want /ID?hl=go&ln=true", u)
		}
		if got, enc := s.stored(u); got != goSnippet || enc {
			t.Fatalf("stored %q (encrypted %v)", got, enc)
		}
		checkRendered(t, b, goSnippet, true)
		if b.truth(`window.pwned === 1`) || b.num(`document.querySelectorAll("script").length`) != 1 || b.num(`document.querySelectorAll("#code img").length`) != 0 {
			t.Error("markup in the paste became elements")
		}
		if got := b.str(`document.getElementById("user").textContent + "|" + document.getElementById("comment").textContent`); got != "ann b|a <i>test</i>" { // git cannot keep < and > in the author
			t.Errorf("user and comment shown as %q", got)
		}
		// Line links: a click selects, Shift-click extends, the fragment
		// records it, and opening the link selects again.
		b.do(chromedp.Click(chromedp.CSS(`#L3 a.ln`)))
		if h := b.str(`location.hash`); h != "#L3" || !b.truth(`document.getElementById("L3").classList.contains("selected")`) {
			t.Fatalf("after a click on line 3: hash %q", h)
		}
		b.shiftClick(`#L5 a.ln`)
		if h := b.str(`location.hash`); h != "#L3-L5" || b.num(`document.querySelectorAll(".line.selected").length`) != 3 {
			t.Fatalf("after a Shift-click on line 5: hash %q", h)
		}
		b.open(strings.Split(u, "#")[0] + "#L7")
		if !b.truth(`document.getElementById("L7").classList.contains("selected")`) || b.num(`document.querySelectorAll(".line.selected").length`) != 1 {
			t.Fatal("#L7 does not select line 7")
		}
	})

	t.Run("encrypted paste through the form", func(t *testing.T) {
		b := c.tab(t)
		u := s.submitForm(b, false,
			chromedp.SetValue(chromedp.ID("text"), goSnippet),
			chromedp.SetValue(chromedp.ID("hl"), "go"),
			chromedp.Click(chromedp.ID("ln")),
		)
		key := fragmentKey(u)
		if len(key) != 43 || !strings.Contains(u, "?hl=go&ln=true#") {
			t.Fatalf("went to %s, want /ID?hl=go&ln=true#KEY", u)
		}
		stored, enc := s.stored(u)
		if !enc || !strings.HasPrefix(stored, "v1.") || strings.Contains(stored, "main") {
			t.Fatalf("stored %.80q (encrypted %v)", stored, enc)
		}
		checkRendered(t, b, goSnippet, true)
		if got := s.cli(nil, "get", u); string(got) != goSnippet {
			t.Fatalf("pasteur get: %q", got)
		}
		// Line links keep the key.
		if href := b.str(`document.querySelector("#L3 a.ln").getAttribute("href")`); href != "#"+key+"-L3" {
			t.Fatalf("line 3 links to %q", href)
		}
		b.do(chromedp.Click(chromedp.CSS(`#L3 a.ln`)))
		if h := b.str(`location.hash`); h != "#"+key+"-L3" || !b.truth(`document.getElementById("L3").classList.contains("selected")`) {
			t.Fatalf("after a click on line 3: hash %q", h)
		}
		b.open(strings.Split(u, "#")[0] + "#" + key + "-L8-L9")
		checkRendered(t, b, goSnippet, true)
		if b.num(`document.querySelectorAll(".line.selected").length`) != 2 || !b.truth(`document.getElementById("L8").classList.contains("selected")`) {
			t.Fatal("#KEY-L8-L9 does not select lines 8 to 9")
		}
		for _, id := range []string{"raw-link", "lines-link"} {
			if href := b.str(`document.getElementById("` + id + `").href`); !strings.HasSuffix(href, "#"+key) {
				t.Errorf("%s loses the key: %s", id, href)
			}
		}
		// The raw view decrypts in the browser.
		b.open(strings.Replace(u, "?hl=go&ln=true", "?raw=true", 1))
		if got := b.str(`document.getElementById("raw").textContent`); got != goSnippet {
			t.Fatalf("raw view: %q", got)
		}

		// Wrong, missing and damaged keys say so, and show no text.
		base := strings.Split(u, "#")[0]
		other := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
		for _, tt := range []struct{ url, want string }{
			{base + "#" + other, "cannot be decrypted"},
			{base + "#" + other + "-L2", "cannot be decrypted"},
			{base + "#" + key[:30], "cannot be decrypted"},
			{base, "has no key"},
			{strings.Replace(base, "?hl=go&ln=true", "?raw=true", 1) + "#" + other, "cannot be decrypted"},
		} {
			b.open(tt.url)
			status := b.str(`document.getElementById("status").textContent`)
			if !strings.Contains(status, tt.want) || b.truth(`document.body.classList.contains("ready")`) || b.truth(`!(document.getElementById("paste") || {hidden: true}).hidden`) || strings.Contains(b.str(`document.body.textContent`), "friends") {
				t.Errorf("%s: status %q, want %q and no text", tt.url, status, tt.want)
			}
		}
	})

	t.Run("password", func(t *testing.T) {
		b := c.tab(t)
		u := s.submitForm(b, false,
			chromedp.SetValue(chromedp.ID("text"), "behind a password\n"),
			chromedp.SetValue(chromedp.ID("password"), "open sesame"),
		)
		stored, _ := s.stored(u)
		if strings.Count(stored, ".") != 4 {
			t.Fatalf("stored %q: want a password envelope", stored)
		}
		if !b.truth(`!document.getElementById("unlock").hidden`) {
			t.Fatal("no password form")
		}
		b.do(chromedp.SetValue(chromedp.ID("unlock-password"), "open says me"), chromedp.Click(chromedp.CSS(`#unlock button`)))
		b.waitFor(`document.getElementById("status").textContent.includes("Wrong password")`)
		b.do(chromedp.SetValue(chromedp.ID("unlock-password"), "open sesame"), chromedp.Click(chromedp.CSS(`#unlock button`)))
		b.waitFor(`document.body.classList.contains("ready")`)
		checkRendered(t, b, "behind a password\n", false)
		pw := filepath.Join(t.TempDir(), "pw")
		os.WriteFile(pw, []byte("open sesame\n"), 0o600)
		if got := s.cli(nil, "get", "--password-file", pw, u); string(got) != "behind a password\n" {
			t.Fatalf("pasteur get: %q", got)
		}
	})

	t.Run("pasteur put, read in the browser", func(t *testing.T) {
		b := c.tab(t)
		u := strings.TrimSpace(string(s.cli([]byte(tricky), "put", "--encrypt", "--hl", "go", "--ln", "--server", s.base)))
		b.open(u)
		checkRendered(t, b, tricky, false)
		if !b.truth(`document.getElementById("code").classList.contains("language-go") && !!document.querySelector("#L2 a.ln")`) {
			t.Error("the language and line numbers of the URL are not applied")
		}
		checkCopy(t, b, tricky)
		b.open(strings.Replace(u, "?hl=go&ln=true", "?raw=true", 1))
		if got := b.str(`document.getElementById("raw").textContent`); got != tricky {
			t.Fatalf("raw view: %q", got)
		}
		// With a password too.
		pw := filepath.Join(t.TempDir(), "pw")
		os.WriteFile(pw, []byte("pässwörd 🔑\n"), 0o600)
		u = strings.TrimSpace(string(s.cli([]byte(tricky), "put", "--password-file", pw, "--server", s.base)))
		b.open(u)
		b.do(chromedp.SetValue(chromedp.ID("unlock-password"), "pässwörd 🔑"), chromedp.Click(chromedp.CSS(`#unlock button`)))
		b.waitFor(`document.body.classList.contains("ready")`)
		checkRendered(t, b, tricky, false)
		// And a clear one.
		u = strings.TrimSpace(string(s.cli([]byte(tricky), "put", "--server", s.base)))
		b.open(u)
		checkRendered(t, b, tricky, false)
		checkCopy(t, b, tricky)
	})

	t.Run("files pasted in the browser, read by pasteur get", func(t *testing.T) {
		dir := t.TempDir()
		mib := bytes.Repeat([]byte("0123456789 abcdef\tü🦀\r\n"), 1<<20/26)
		mib = append(mib, bytes.Repeat([]byte("z"), 1<<20-len(mib))...)
		for _, f := range []struct {
			name    string
			content []byte
			clear   bool
		}{
			{"tricky.txt", []byte(tricky), false},
			{"tricky-clear.txt", []byte(tricky), true},
			{"one-mib.txt", mib, false},
		} {
			t.Run(f.name, func(t *testing.T) {
				b := c.tab(t)
				path := filepath.Join(dir, f.name)
				os.WriteFile(path, f.content, 0o644)
				u := s.submitForm(b, f.clear, chromedp.SetUploadFiles(chromedp.ID("file"), []string{path}))
				if got := s.cli(nil, "get", u); !bytes.Equal(got, f.content) {
					t.Fatalf("pasteur get: %d bytes, want %d", len(got), len(f.content))
				}
				if len(f.content) < 1<<20 {
					checkRendered(t, b, string(f.content), false)
				} else if n := b.num(`document.querySelectorAll(".line").length`); n != bytes.Count(f.content, []byte("\n"))+1 {
					t.Fatalf("%d lines rendered", n)
				}
			})
		}
	})

	t.Run("burn after reading and delete, in the page", func(t *testing.T) {
		b := c.tab(t)
		u := s.submitForm(b, false,
			chromedp.SetValue(chromedp.ID("text"), goSnippet),
			chromedp.SetValue(chromedp.ID("hl"), "go"),
			chromedp.Click(chromedp.ID("burn")),
		)
		if !b.truth(`!!document.getElementById("burn") && document.getElementById("code").textContent === ""`) {
			t.Fatal("the page of a burn paste does not ask before showing it")
		}
		if code := s.status(u, "application/json", "HEAD"); code != 200 {
			t.Fatalf("loading the page burned the paste: %d", code)
		}
		b.do(chromedp.Click(chromedp.CSS(`#burn button`)))
		b.waitFor(`!document.getElementById("burn")`)
		b.waitSettled()
		checkRendered(t, b, goSnippet, true)
		if code := s.status(u, "application/json", "GET"); code != 410 {
			t.Errorf("after the page read it: %d, want 410", code)
		}

		u = s.submitForm(b, true, chromedp.SetValue(chromedp.ID("text"), "to delete"))
		b.waitFor(`!document.getElementById("delete").hidden`)
		var ok bool
		b.eval(`window.confirm = () => true; true`, &ok)
		b.do(chromedp.Click(chromedp.ID("delete")))
		b.waitFor(`document.getElementById("status").textContent.includes("deleted")`)
		if code := s.status(u, "application/json", "GET"); code != 410 {
			t.Errorf("after Delete: %d, want 410", code)
		}
	})

	t.Run("refusals show in the form", func(t *testing.T) {
		b := c.tab(t)
		b.do(chromedp.Navigate(s.base + "/"))
		b.waitFor(`document.readyState === "complete"`)
		b.do(chromedp.Click(chromedp.ID("submit")))
		b.waitFor(`document.getElementById("status").textContent.includes("nothing to paste")`)
	})
}

// checkRendered checks the paste page in b: the text exactly (the line
// numbers are not text), highlighting, and a block per line.
func checkRendered(t *testing.T, b *tab, text string, highlighted bool) {
	t.Helper()
	if !b.truth(`document.body.classList.contains("ready")`) {
		t.Fatalf("the page did not render: %q", b.str(`document.getElementById("status").textContent`))
	}
	if got := b.str(`document.getElementById("code").textContent`); got != text {
		t.Fatalf("rendered text differs:\n got %q\nwant %q", got, text)
	}
	lines := strings.Count(strings.TrimSuffix(text, "\n"), "\n") + 1
	if n := b.num(`document.querySelectorAll("#code .line").length`); n != lines {
		t.Errorf("%d lines rendered, want %d", n, lines)
	}
	if highlighted {
		for _, cls := range []string{"hljs-keyword", "hljs-string"} {
			if b.num(`document.querySelectorAll("#code .`+cls+`").length`) == 0 {
				t.Errorf("no .%s in the highlighted paste", cls)
			}
		}
		if b.truth(`!!document.querySelector("#code a.ln")`) && b.str(`getComputedStyle(document.querySelector("#L2 a.ln"), "::before").content`) != `"2"` {
			t.Error("line 2 is not numbered 2")
		}
	}
}

// checkCopy clicks Copy and checks what it gave the clipboard: the exact
// text. The clipboard API is replaced by a recorder, as a headless tab has
// no clipboard to read back.
func checkCopy(t *testing.T, b *tab, text string) {
	t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText = async (s) => { window.copied = s; }`))
	b.do(chromedp.Click(chromedp.ID("copy")))
	b.waitFor(`window.copied !== undefined && document.getElementById("copy").textContent === "Copied"`)
	if got := b.str(`window.copied`); got != text {
		t.Fatalf("Copy copied %q, want %q", got, text)
	}
}

// TestScreenshots takes the README's screenshots: the form and a paste,
// light and dark. With PASTEUR_SCREENSHOTS=DIR it writes them there.
func TestScreenshots(t *testing.T) {
	s := newSite(t)
	c := newChrome(t)
	defer c.checkQuiet(t)
	u := strings.TrimSpace(string(s.cli([]byte(screenshotPaste), "put", "--encrypt", "--hl", "go", "--ln", "--user", "ann", "--server", s.base)))
	b := c.tab(t)
	out := os.Getenv("PASTEUR_SCREENSHOTS")
	for _, scheme := range []string{"light", "dark"} {
		b.colorScheme(scheme)
		for _, page := range []struct{ name, url string }{
			{"form", s.base + "/"},
			{"paste", u + "-L10-L11"},
		} {
			b.do(chromedp.EmulateViewport(1000, 620))
			b.open(page.url)
			if page.name == "form" {
				b.do(chromedp.SetValue(chromedp.ID("text"), formPaste), chromedp.SetValue(chromedp.ID("hl"), "go"), chromedp.Click(chromedp.ID("ln")), chromedp.SetValue(chromedp.ID("user"), "ann"))
				b.do(chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
			}
			if bg := b.str(`getComputedStyle(document.body).backgroundColor`); (bg == "rgb(255, 255, 255)") != (scheme == "light") {
				t.Errorf("%s %s: background %s", page.name, scheme, bg)
			}
			shot := b.screenshot()
			if img, err := png.Decode(bytes.NewReader(shot)); err != nil || img.Bounds().Dx() != 1000 {
				t.Fatalf("%s %s: not a 1000 px wide PNG: %v", page.name, scheme, err)
			}
			if out != "" {
				name := filepath.Join(out, fmt.Sprintf("screenshot-%s-%s.png", page.name, scheme))
				if err := os.WriteFile(name, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s (%d bytes)", name, len(shot))
			}
		}
	}
}

const screenshotPaste = `// Package hello greets, in many languages.
package hello

import (
	"fmt"
	"strings"
)

// Greet returns a greeting for name in the language lang.
func Greet(lang, name string) string {
	greetings := map[string]string{
		"en": "Hello", "fr": "Bonjour", "de": "Hallo", "es": "¡Hola",
	}
	g, ok := greetings[strings.ToLower(lang)]
	if !ok {
		g = greetings["en"]
	}
	return fmt.Sprintf("%s, %s!", g, name) // e.g. "Bonjour, Ann!"
}
`

const formPaste = `package main

import "fmt"

func main() {
	fmt.Println("Hello from pasteur")
}
`
