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

	// The paste's life (docs/FORMAT.md): when it expires, whether it burns
	// after reading, and the hash of its delete token.
	Expires    *time.Time `json:"expires,omitempty"`
	Burn       bool       `json:"burn,omitempty"`
	DeleteHash string     `json:"delete_hash,omitempty"`
}

// Marshal encodes p as stored in a repository.
func Marshal(p *Paste) ([]byte, error) {
	if !utf8.Valid(p.Contents) {
		return nil, fmt.Errorf("%w: contents are not UTF-8", ErrInvalid)
	}
	// The text, its escapes (a few in a line of code) and the fields.
	b, err := appendDocument(make([]byte, 0, len(p.Contents)+len(p.Contents)/8+256), p)
	if err != nil {
		return nil, fmt.Errorf("paste: encode %s: %w", p.ID, err)
	}
	return append(b, '\n'), nil
}

// storedTime is t as stored: UTC, to the second; nil for the zero time.
func storedTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}

// Unmarshal decodes a stored paste named id, in this format or the
// original's. A tombstone (a removed paste) is an error wrapping ErrGone.
// A paste's document is decoded once: the key of a tombstone, which
// Marshal never writes (a paste's text, whatever it holds, is inside
// "contents"), is looked for as the document is decoded. Only a document
// that has the key, or that does not decode, is read again, tombstone
// first (readSlow), so that every document reads as when it was decoded
// twice.
func Unmarshal(id string, data []byte) (*Paste, error) {
	var s stored
	if err := json.Unmarshal(data, &s); err != nil || s.Removed != nil {
		return readSlow(id, data)
	}
	if s.Contents == nil {
		s.Contents = []byte{} // absent or null, as []byte("")
	}
	return s.paste(id, s.Contents), nil
}

// readSlow is Unmarshal for the documents that are not plainly a paste's:
// a tombstone wherever IsTombstone finds one (a document holding both a
// tombstone and a paste is the tombstone), else the paste, else the error
// of decoding it.
func readSlow(id string, data []byte) (*Paste, error) {
	if ts, ok := IsTombstone(data); ok {
		return nil, fmt.Errorf("paste %s: %s: %w", id, ts.Removed, ErrGone)
	}
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("paste: decode %s: %w", id, err)
	}
	return d.Paste(id), nil
}

// stored is a stored document as Unmarshal decodes it: a paste's fields
// (its text decoded straight into bytes: storedText), and whether the key
// of a tombstone (lifecycle.go) is there, with any value, in any case (as
// encoding/json matches keys).
type stored struct {
	Document
	Contents storedText      `json:"contents"` // in place of Document's
	Removed  json.RawMessage `json:"removed"`
}

// Paste returns the paste the document holds, named id. A created time
// that Marshal could not write back (outside the years 0 to 9999 once in
// UTC, as another writer may have stored it) is left out, as if absent.
func (d *Document) Paste(id string) *Paste {
	return d.paste(id, []byte(d.Contents))
}

// paste is Paste with the text given.
func (d *Document) paste(id string, contents []byte) *Paste {
	p := &Paste{ID: id, Contents: contents, Encrypted: d.Encrypted, Language: d.Language, User: d.User, Comment: d.Comment,
		Created: readTime(d.Created), Expires: readTime(d.Expires), Burn: d.Burn, DeleteHash: d.DeleteHash}
	return p
}

// readTime is a stored time, or the zero time when absent or outside the
// years 0 to 9999 once in UTC (which Marshal could not write back).
func readTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return time.Time{}
	}
	return *t
}
