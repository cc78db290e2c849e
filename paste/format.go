package paste

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// record is the stored form of a paste: one JSON document per paste. Its
// first two fields are the original pasteur's format, which is still read.
type record struct {
	Contents  string `json:"contents"`
	Encrypted bool   `json:"encrypted"`
	Language  string `json:"hl,omitempty"`
}

// Marshal encodes p as stored in a repository. User, comment and time are not
// part of it: the store keeps them as commit metadata.
func Marshal(p *Paste) ([]byte, error) {
	if !utf8.Valid(p.Contents) {
		return nil, fmt.Errorf("%w: contents are not UTF-8", ErrInvalid)
	}
	b, err := json.Marshal(record{Contents: string(p.Contents), Encrypted: p.Encrypted, Language: p.Language})
	if err != nil {
		return nil, fmt.Errorf("paste: encode %s: %w", p.ID, err)
	}
	return append(b, '\n'), nil
}

// Unmarshal decodes a stored paste named id, in this format or the
// original's.
func Unmarshal(id string, data []byte) (*Paste, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("paste: decode %s: %w", id, err)
	}
	return &Paste{ID: id, Contents: []byte(r.Contents), Encrypted: r.Encrypted, Language: r.Language}, nil
}
