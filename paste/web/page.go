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
	} else {
		v.Text = func(yield func(template.HTML) bool) {
			for c := range paste.Chunks(p.Contents, pageChunk) {
				if !yield(exactHTML(c)) {
					return
				}
			}
		}
	}
	return v
}

// pageChunk is how much of a paste a page escapes at a time: what a slow
// reader of a page holds, besides the paste itself and a render buffer.
const pageChunk = 4 << 10

// exactHTML escapes text so that the DOM's textContent of the element it
// is put in equals text: besides the usual escapes, carriage returns are
// written as references, which HTML parsing does not fold into newlines.
func exactHTML(text string) template.HTML {
	return template.HTML(strings.ReplaceAll(template.HTMLEscapeString(text), "\r", "&#13;"))
}
