package e2e

import (
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// TestBrowserWithAuth: with --auth, the browser asks for a user at the
// form (401 with WWW-Authenticate: its prompt, answered here through the
// DevTools protocol as a person would type it), and the page pastes with
// the credentials the browser then keeps; the paste's user is the one who
// logged in; its Delete button deletes it.
func TestBrowserWithAuth(t *testing.T) {
	require(t, false, "git", "htpasswd")
	bin := buildPasteur(t)
	users := filepath.Join(t.TempDir(), "users")
	htpasswd(t, users, "alice", "s3cret", true)
	s := startPublic(t, nil, bin, "--auth", users)
	site := &site{t: t, bin: bin, base: s.base}
	c := newChrome(t)
	defer c.checkQuiet(t)
	b := c.tab(t)

	var prompts atomic.Int32
	go func() {
		for ev, err := range chromedp.Events(b.ctx, fetch.RequestPaused) {
			if err != nil {
				return
			}
			chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(b.ctx, fetch.AuthRequired) {
			if err != nil {
				return
			}
			prompts.Add(1)
			chromedp.Call(b.ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID,
				AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: "ProvideCredentials", Username: "alice", Password: "s3cret"}})
		}
	}()
	handle := true
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handle}); err != nil {
		t.Fatal(err)
	}

	u := site.submitForm(b, true,
		chromedp.SetValue(chromedp.ID("text"), "pasted by a user who logged in"),
		chromedp.SetValue(chromedp.ID("user"), "mallory"),
	)
	if prompts.Load() < 1 {
		t.Fatal("the browser was never asked for a user")
	}
	if got := b.str(`document.getElementById("user").textContent`); got != "alice" {
		t.Errorf("the page shows the paste by %q, want alice", got)
	}
	if author := lastAuthor(t, s.data, "alice"); author != "alice" {
		t.Errorf("commit author %q, want alice", author)
	}
	if got, _ := site.stored(u); got != "pasted by a user who logged in" {
		t.Errorf("stored %q", got)
	}

	// Delete, on the page: the token goes beside the credentials the
	// browser keeps (it once went in their header, and the server
	// refused the Delete for want of a user).
	b.waitFor(`!document.getElementById("delete").hidden`)
	var ok bool
	b.eval(`window.confirm = () => true; true`, &ok)
	b.do(chromedp.Click(chromedp.ID("delete")))
	b.waitFor(`document.getElementById("status").textContent.includes("deleted")`)
	if code := site.status(u, "application/json", "GET"); code != 410 {
		t.Errorf("after Delete: %d, want 410", code)
	}
}
