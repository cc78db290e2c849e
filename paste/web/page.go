package web

import (
	"html/template"
	"iter"
	"net/url"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
)

// formView is what index.html shows.
type formView struct {
	Title, Subtitle string     // the heading
	Languages       []Language // for the chooser, by title
	MaxSize         int64      // the largest paste, in bytes
	Expiries        []expiry   // for the expiry chooser
}

// expiry is a choice of the expiry chooser.
type expiry struct {
	Value, Title string
	Default      bool
}

// pasteView is what paste.html and raw.html show. The page script
// highlights, numbers lines and, for an encrypted paste, decrypts first.
type pasteView struct {
	Title         string // the site's, in the heading
	ID            string
	Language      string   // highlight.js name, "" for none
	LanguageTitle string   // its display name
	LanguageFiles []string // the highlight.js language files to load
	Numbers       bool
	LinesURL      string // this page with line numbers toggled
	Encrypted     bool
	Text          iter.Seq[template.HTML] // clear pastes: the text, escaped exactly, a chunk at a time
	Envelope      iter.Seq[string]        // encrypted pastes: the stored envelope, a chunk at a time
	User          string
	Comment       string
	Created       time.Time
	Expires       time.Time // zero: never
	BurnNotice    bool      // a paste that burns after reading: ask before showing it
	Burned        bool      // this page showed a paste that burned: no other read will
}

// pageOf prepares a paste for its page, in language lang ("" for none).
func (h *Handler) pageOf(p *paste.Paste, lang string, numbers bool) *pasteView {
	v := &pasteView{
		Title:     h.title,
		ID:        p.ID,
		Numbers:   numbers,
		Encrypted: p.Encrypted,
		User:      cleanText(p.User, maxUser), // for pastes stored before names were cleaned
		Comment:   cleanText(p.Comment, maxComment),
		Created:   p.Created,
		Expires:   p.Expires,
	}
	q := url.Values{}
	if lang != "" {
		q.Set("hl", lang)
	}
	if !numbers {
		q.Set("ln", "true")
	}
	v.LinesURL = "/" + p.ID
	if len(q) > 0 {
		v.LinesURL += "?" + q.Encode()
	}
	if lang != "" {
		v.Language = lang
		v.LanguageFiles = h.langs.Closure(lang)
		v.LanguageTitle = h.langs.Title(lang)
	}
	v.Text, v.Envelope = func(func(template.HTML) bool) {}, func(func(string) bool) {}
	if p.Encrypted {
		v.Envelope = paste.Chunks(p.Contents, pageChunk)
	} else if !p.Burn && h.renderings.fits(maxEscaped*len(p.Contents)) {
		// Escaped once, shared by every reader of the paste.
		text, _ := h.renderings.get("html", p.ID, func() (string, error) {
			return h.escaper.Replace(string(p.Contents)), nil
		})
		v.Text = func(yield func(template.HTML) bool) {
			for c := range chunksOf(text, pageChunk) {
				if !yield(template.HTML(c)) {
					return
				}
			}
		}
	} else {
		v.Text = func(yield func(template.HTML) bool) {
			for c := range paste.Chunks(p.Contents, pageChunk) {
				if !yield(template.HTML(h.escaper.Replace(c))) {
					return
				}
			}
		}
	}
	return v
}

// maxEscaped bounds how many bytes escaping makes of one byte, in HTML
// ("&#34;") and in JSON ("\u003c").
const maxEscaped = 6

// pageChunk is how much of a paste a page escapes at a time: what a slow
// reader of a page holds, besides the paste itself and a render buffer.
const pageChunk = 4 << 10

// newExactEscaper returns the escaping of a paste's text, so that the
// DOM's textContent of the element it is put in equals the text: besides
// the escapes of template.HTMLEscapeString, carriage returns are written as
// references, which HTML parsing does not fold into newlines. A byte at a
// time, so a text may be escaped in pieces.
func newExactEscaper() *strings.Replacer {
	return strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "'", "&#39;", "&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;")
}
