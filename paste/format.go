package paste

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// Document is the stored form of a paste, one JSON document per paste, and
// also what GET /ID answers to Accept: application/json (docs/FORMAT.md).
// Its first two fields are the original pasteur's format, which is still
// read. User, comment and time are kept here too (and by gitsync as the
// commit's author, message and date), so that reading a paste needs no
// history walk.
type Document struct {
	Contents  string     `json:"contents"`
	Encrypted bool       `json:"encrypted"`
	Language  string     `json:"hl,omitempty"`
	User      string     `json:"user,omitempty"`
	Comment   string     `json:"comment,omitempty"`
	Created   *time.Time `json:"created,omitempty"`
}

// Marshal encodes p as stored in a repository.
func Marshal(p *Paste) ([]byte, error) {
	if !utf8.Valid(p.Contents) {
		return nil, fmt.Errorf("%w: contents are not UTF-8", ErrInvalid)
	}
	r := Document{Contents: string(p.Contents), Encrypted: p.Encrypted, Language: p.Language, User: p.User, Comment: p.Comment}
	if !p.Created.IsZero() {
		t := p.Created.UTC().Truncate(time.Second)
		r.Created = &t
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("paste: encode %s: %w", p.ID, err)
	}
	return append(b, '\n'), nil
}

// Unmarshal decodes a stored paste named id, in this format or the
// original's.
func Unmarshal(id string, data []byte) (*Paste, error) {
	var r Document
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("paste: decode %s: %w", id, err)
	}
	return r.Paste(id), nil
}

// Paste returns the paste the document holds, named id. A created time
// that Marshal could not write back (outside the years 0 to 9999 once in
// UTC, as another writer may have stored it) is left out, as if absent.
func (d *Document) Paste(id string) *Paste {
	p := &Paste{ID: id, Contents: []byte(d.Contents), Encrypted: d.Encrypted, Language: d.Language, User: d.User, Comment: d.Comment}
	if d.Created != nil {
		if y := d.Created.UTC().Year(); 0 <= y && y <= 9999 {
			p.Created = *d.Created
		}
	}
	return p
}
