package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// chrome is Debian's chromium, headless, with a fresh profile, driven
// through the DevTools protocol. Each tab is a chromedp context.
type chrome struct {
	ctx context.Context // the browser's; ends with the test

	mu     sync.Mutex
	errors []string // console errors and uncaught exceptions, in every tab
}

// newChrome starts chromium for the test. It skips the test, or fails it
// with PASTEUR_E2E=1, when chromium is not installed.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	require(t, false, "chromium")
	path, _ := exec.LookPath("chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1100, 760),
	)
	// The whole browser lives at most as long as this deadline.
	deadline, cancelDeadline := context.WithTimeout(context.Background(), 8*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc(); cancelDeadline() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &chrome{ctx: ctx}
}

// tab opens a new tab; it closes at the end of the test. Console errors
// and exceptions in it are recorded for checkQuiet.
func (c *chrome) tab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx)
	t.Cleanup(cancel)
	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" || m.Type == "assert" {
				c.mu.Lock()
				c.errors = append(c.errors, fmt.Sprintf("%s:%d %s", m.URL, m.Line+1, m))
				c.mu.Unlock()
			}
		}
	}()
	return &tab{t: t, ctx: ctx}
}

// checkQuiet fails the test if any page logged an error: a blocked inline
// script or style (CSP), a failed request, an exception.
func (c *chrome) checkQuiet(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.errors {
		t.Errorf("browser console: %s", e)
	}
}

// tab is one browser tab; its methods fail the test on error, and bound
// every wait.
type tab struct {
	t   *testing.T
	ctx context.Context
}

const stepTimeout = 45 * time.Second

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open loads url and waits until the page script is done: body.ready, or
// a status message shown.
func (b *tab) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	b.waitSettled()
}

// waitSettled waits for the page script to render the paste, or to say
// why it cannot, or to ask before it reads a paste that burns.
func (b *tab) waitSettled() {
	b.t.Helper()
	b.waitFor(`document.body.classList.contains("ready") || (document.getElementById("status") && !document.getElementById("status").hidden && !document.getElementById("status").classList.contains("info")) || (document.getElementById("unlock") && !document.getElementById("unlock").hidden) || (document.getElementById("burn") && document.getElementById("burn").dataset.armed === "true")`)
}

// waitFor waits until the JavaScript expression is true.
func (b *tab) waitFor(expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(stepTimeout-time.Second))); err != nil {
		b.t.Fatalf("waiting for %s: %v (page: %s)", expr, err, b.evalString(`location.href + " " + (document.getElementById("status") || {}).textContent`))
	}
}

// eval evaluates expr in the page and decodes its value into v.
func (b *tab) eval(expr string, v any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("evaluate %s: %v (%s)", expr, err, raw)
	}
}

func (b *tab) evalString(expr string) string {
	var s string
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err == nil {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

func (b *tab) str(expr string) string {
	b.t.Helper()
	var s string
	b.eval(expr, &s)
	return s
}

func (b *tab) num(expr string) int {
	b.t.Helper()
	var n int
	b.eval(expr, &n)
	return n
}

func (b *tab) truth(expr string) bool {
	b.t.Helper()
	var v bool
	b.eval(expr, &v)
	return v
}

// shiftClick clicks the element css selects with Shift held down.
func (b *tab) shiftClick(css string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(css), chromedp.NodeVisible))
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.MouseClickNode(nodes[0], chromedp.ButtonModifiers(chromedp.ModifierShift)))
	}
	if err != nil {
		b.t.Fatalf("shift-click %s: %v", css, err)
	}
}

// colorScheme makes the page prefer "light" or "dark".
func (b *tab) colorScheme(scheme string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// screenshot returns a PNG of the viewport.
func (b *tab) screenshot() []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// location returns the page's URL.
func (b *tab) location() string {
	b.t.Helper()
	return b.str(`location.href`)
}

// fragmentKey returns the key part of a URL's fragment.
func fragmentKey(u string) string {
	_, f, _ := strings.Cut(u, "#")
	if len(f) > 43 {
		f = f[:43]
	}
	return f
}
