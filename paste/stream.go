package paste

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"unicode/utf8"
)

// WriteJSON writes p to w as Marshal encodes it, byte for byte, without
// holding the whole encoding: the contents are escaped a chunk at a time,
// so that a slow reader of a large paste costs a chunk, not a copy.
func WriteJSON(w io.Writer, p *Paste) error {
	if !utf8.Valid(p.Contents) {
		return fmt.Errorf("%w: contents are not UTF-8", ErrInvalid)
	}
	rest := *p
	rest.Contents = nil
	b, err := Marshal(&rest)
	if err != nil {
		return err
	}
	const head = `{"contents":"`
	if !bytes.HasPrefix(b, []byte(head+`"`)) {
		return fmt.Errorf("paste: encode %s: contents are not the first field", p.ID)
	}
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	for chunk := range Chunks(p.Contents, 4<<10) {
		enc, err := json.Marshal(chunk)
		if err != nil {
			return err
		}
		if _, err := w.Write(enc[1 : len(enc)-1]); err != nil {
			return err
		}
	}
	_, err = w.Write(b[len(head):])
	return err
}

// Chunks cuts b into strings of at most size bytes, on rune boundaries
// (a chunk is longer only for a rune longer than size).
func Chunks(b []byte, size int) iter.Seq[string] {
	return func(yield func(string) bool) {
		for len(b) > 0 {
			n := min(size, len(b))
			for n < len(b) && n > 0 && !utf8.RuneStart(b[n]) {
				n--
			}
			if n == 0 {
				_, n = utf8.DecodeRune(b)
			}
			if !yield(string(b[:n])) {
				return
			}
			b = b[n:]
		}
	}
}

// Viewer is a Store that can also lend a paste without copying it.
type Viewer interface {
	// View is Get, but the paste returned may be shared with other
	// callers: it must not be changed.
	View(ctx context.Context, id string) (*Paste, error)
}

// View returns the paste from memory without a copy, or from the
// underlying Store. The paste is shared: callers must not change it.
func (c *Cache) View(ctx context.Context, id string) (*Paste, error) {
	return c.get(ctx, id, false)
}
