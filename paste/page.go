package paste

import (
	"strings"
	"time"
)

// pasteView is what paste.html shows.
type pasteView struct {
	ID        string
	Language  string
	Lines     []string
	Numbers   bool
	Encrypted bool
	Contents  string
	User      string
	Comment   string
	Created   time.Time
}

// pageOf prepares a paste for the page.
func pageOf(p *Paste, lang string, numbers bool) *pasteView {
	text := string(p.Contents)
	return &pasteView{
		ID:        p.ID,
		Language:  lang,
		Lines:     strings.Split(strings.TrimSuffix(text, "\n"), "\n"),
		Numbers:   numbers,
		Encrypted: p.Encrypted,
		Contents:  text,
		User:      p.User,
		Comment:   p.Comment,
		Created:   p.Created,
	}
}
