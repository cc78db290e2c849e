package web

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/pasteur-dev/pasteur/paste"
)

// idAttempts bounds the retries when a new id collides with a stored one.
const idAttempts = 8

// form serves the page with the paste form.
func (h *Handler) form(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, "index.html", &formView{Title: h.title, Subtitle: h.subtitle, Languages: h.langs.All(), MaxSize: h.maxSize, Expiries: h.expiries()})
}

// create stores a submitted paste and answers where it lives: JSON for
// Accept: application/json (the original's page script), a redirect for a
// browser's form post, and the URL on one line for everything else (curl).
func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	sub, err := h.parseSubmission(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	token, hash, err := paste.NewDeleteToken()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := &paste.Paste{
		Contents:   sub.paste,
		Encrypted:  sub.encrypted,
		Language:   sub.language,
		User:       sub.user,
		Comment:    sub.comment,
		Created:    h.now().UTC(),
		Expires:    sub.life.expires,
		Burn:       sub.life.burn,
		DeleteHash: hash,
	}
	for attempt := 0; ; attempt++ {
		if p.ID, err = h.newID(h.idLength); err != nil {
			h.fail(w, r, err)
			return
		}
		// The store bounds its own wait; a client that goes away
		// does not cut a paste off halfway through being stored.
		err = h.store.Create(context.WithoutCancel(r.Context()), p)
		if !errors.Is(err, paste.ErrExists) || attempt == idAttempts {
			break
		}
	}
	if err != nil {
		h.fail(w, r, fmt.Errorf("create paste: %w", err))
		return
	}
	if r.Context().Err() != nil {
		h.log.Info("paste created; the client went away before the answer", "id", p.ID, "bytes", len(p.Contents))
		return
	}
	// Its arguments are built only for a log that keeps the line.
	if h.log.Enabled(context.Background(), slog.LevelInfo) { // as Info asks
		h.log.Info("paste created", "id", p.ID, "bytes", len(p.Contents), "encrypted", p.Encrypted, "expires", p.Expires, "burn", p.Burn)
	}

	accept := r.Header.Get("Accept")
	switch {
	case h.jsonAnswers:
		// The original's answer, as its clients read it: always JSON,
		// ln and raw always present, readable from any origin.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_ = json.NewEncoder(w).Encode(originalAnswer{Code: p.ID, HL: sub.language, LN: sub.lines, Raw: sub.raw})
	case jsonWanted(accept, sub.query):
		w.Header().Set("Content-Type", "application/json")
		answer := paste.CreateAnswer{Code: p.ID, HL: sub.language, LN: sub.lines, Raw: sub.raw, DeleteToken: token, Burn: p.Burn}
		if !p.Expires.IsZero() {
			answer.Expires = &p.Expires
		}
		_ = json.NewEncoder(w).Encode(answer)
	case strings.Contains(accept, "text/html"):
		http.Redirect(w, r, location(p.ID, sub.language, sub.lines, sub.raw), http.StatusSeeOther)
	default:
		// The paste's URL on one line, written at once.
		w.Header()["Content-Type"] = []string{"text/plain; charset=utf-8"}
		b := make([]byte, 0, len("https://")+len(r.Host)+len("/")+len(p.ID)+len("?hl=")+3*len(sub.language)+len("&ln=true&raw=true\n"))
		b = appendLocation(appendBaseURL(b, r), p.ID, sub.language, sub.lines, sub.raw)
		_, _ = w.Write(append(b, '\n'))
	}
}

// location is the path of a new paste with the options it was created
// with, as url.Values would encode them (keys in order): what a browser is
// sent to and curl is shown.
func location(id, language string, lines, raw bool) string {
	return string(appendLocation(nil, id, language, lines, raw))
}

// appendLocation appends location's path to b.
func appendLocation(b []byte, id, language string, lines, raw bool) []byte {
	b = append(append(b, '/'), id...)
	sep := byte('?')
	if language != "" {
		b = append(append(append(b, sep), "hl="...), url.QueryEscape(language)...)
		sep = '&'
	}
	if lines {
		b = append(append(b, sep), "ln=true"...)
		sep = '&'
	}
	if raw {
		b = append(append(b, sep), "raw=true"...)
	}
	return b
}

// originalAnswer is the git-era original's answer to POST /: ln and raw
// are always there.
type originalAnswer struct {
	Code string `json:"code"`
	HL   string `json:"hl,omitempty"`
	LN   bool   `json:"ln"`
	Raw  bool   `json:"raw"`
}

// jsonWanted reports whether a client asks for a JSON answer, by its
// Accept header and its query: with Accept: application/json, or
// ?format=json for clients that cannot set headers.
func jsonWanted(accept string, q url.Values) bool {
	return strings.Contains(accept, "application/json") || q.Get("format") == "json"
}

// query is r's query string parsed, nil when it has none (a nil
// url.Values answers as an empty one).
func query(r *http.Request) url.Values {
	if r.URL.RawQuery == "" {
		return nil
	}
	return r.URL.Query()
}

// appendBaseURL appends the scheme and host the client used to reach us.
func appendBaseURL(b []byte, r *http.Request) []byte {
	if r.TLS != nil {
		b = append(b, "https://"...)
	} else {
		b = append(b, "http://"...)
	}
	return append(b, r.Host...)
}

// encryptedRaw refuses the raw text of an encrypted paste.
const encryptedRaw = "this paste is encrypted end to end and the server cannot read it: open its link (with the #key) in a browser, or run: pasteur get 'URL#KEY'"

// show answers GET /ID: the stored paste as JSON for Accept:
// application/json (or ?format=json), the exact text for ?raw=true (or
// ?raw), and the page otherwise. The JSON and the text may be read from
// any origin: they are public, and an answer to "*" is never one to a
// request with credentials.
// The server cannot produce the text of an encrypted paste: its raw form is
// a page that decrypts it in the browser, or a refusal for clients that do
// not take HTML.
func (h *Handler) show(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !paste.ValidID(id) {
		h.fail(w, r, paste.ErrNotFound)
		return
	}
	p, err := h.view(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Add("Vary", "Accept")
	// A paste may be deleted or expire at any time: caches ask again
	// (a 304 for the raw text, whose Last-Modified would otherwise
	// keep it fresh in them for a tenth of its age, deleted or not).
	w.Header().Set("Cache-Control", "no-cache")
	q := query(r)
	accept := r.Header.Get("Accept")
	raw := queryOn(q, "raw")
	asJSON := jsonWanted(accept, q)
	if p.Burn {
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case !asJSON && !raw:
			// The page does not burn (link previews fetch pages): it
			// says what a read does and offers a button.
			// The language is not secret: the page loads its files, so
			// that the text is highlighted once read.
			lang := cmp.Or(h.language(q.Get("hl")), h.language(p.Language))
			v := h.pageOf(&paste.Paste{ID: p.ID, Encrypted: p.Encrypted, User: p.User, Comment: p.Comment, Created: p.Created, Expires: p.Expires}, lang, queryOn(q, "ln"))
			v.BurnNotice = true
			h.render(w, r, "paste.html", v)
			return
		case !asJSON && p.Encrypted && !strings.Contains(accept, "text/html"):
			h.fail(w, r, &requestError{http.StatusConflict, encryptedRaw})
			return
		}
		if p, err = h.deliver(r, p); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	switch {
	case asJSON:
		// Streamed: a slow reader holds a chunk of the encoding, not
		// all of it. The token's hash is the store's business.
		if p.DeleteHash != "" {
			shown := *p
			shown.DeleteHash = ""
			p = &shown
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		h.writeJSON(w, r, p)
	case raw && !p.Encrypted:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if p.Burn {
			r = wholeRead(r)
		}
		http.ServeContent(w, r, "", p.Created, newBody(p.Contents))
	case raw && strings.Contains(accept, "text/html"):
		h.render(w, r, "raw.html", h.pageOf(p, "", false))
	case raw:
		h.fail(w, r, &requestError{http.StatusConflict, encryptedRaw})
	default:
		lang := h.language(q.Get("hl"))
		if lang == "" {
			lang = h.language(p.Language)
		}
		h.render(w, r, "paste.html", h.pageOf(p, lang, queryOn(q, "ln")))
	}
}

// wholeRead is r without its Range and conditions, for the read that
// burns a paste: that read is the only one, and delivers the whole text
// (a range, a 304 or a 412 would burn it and deliver less, or nothing).
func wholeRead(r *http.Request) *http.Request {
	w := new(http.Request)
	*w = *r
	w.Header = r.Header.Clone()
	for _, k := range []string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		w.Header.Del(k)
	}
	return w
}

// render executes a page template straight to the client, through a
// buffer of renderBuffer bytes: a page that fits (every page but those of
// large pastes) still becomes a clean 500 on a template error, and a
// large one costs a slow reader the buffer and a chunk of the paste, not
// a copy of the whole page (see pasteView).
func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, renderBuffer)
	err := h.pages.ExecuteTemplate(bw, name, data)
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case err == nil:
	case cw.n == 0:
		w.Header().Del("Content-Type")
		h.fail(w, r, fmt.Errorf("render %s: %w", name, err))
	default:
		h.log.Debug("page cut", "page", name, "err", err)
	}
}

// renderBuffer is the part of a page kept before the first byte is sent.
const renderBuffer = 32 << 10

// countingWriter counts the bytes written to w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// view returns the paste under id, shared without a copy when the store
// can lend it (paste.Viewer): the answer only reads it.
func (h *Handler) view(ctx context.Context, id string) (*paste.Paste, error) {
	if v, ok := h.store.(paste.Viewer); ok {
		return v.View(ctx, id)
	}
	return h.store.Get(ctx, id)
}

// writeJSON answers p's stored document. Made once and shared by its
// readers when it is small enough to keep (see renderings), else streamed
// a chunk at a time; either way a slow reader holds no copy of it.
func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, p *paste.Paste) {
	// A paste that burns is shown once: keeping its rendering would only
	// keep its text in memory.
	if p.Burn || !h.renderings.fits(maxEscaped*len(p.Contents)+maxFraming) {
		if err := paste.WriteJSON(w, p); err != nil {
			h.log.Debug("JSON answer cut", "id", p.ID, "err", err)
		}
		return
	}
	doc, err := h.renderings.get("json", p.ID, func() (string, error) {
		b, err := paste.Marshal(p)
		return string(b), err
	})
	if err != nil {
		w.Header().Del("Content-Type")
		w.Header().Del("Access-Control-Allow-Origin")
		h.fail(w, r, err)
		return
	}
	if _, err := io.WriteString(w, doc); err != nil {
		h.log.Debug("JSON answer cut", "id", p.ID, "err", err)
	}
}
