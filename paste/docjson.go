package paste

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"
)

// appendDocument appends the stored document of p (Marshal's bytes
// without the newline) to b: the bytes encoding/json writes for a
// Document, field for field and escape for escape (a test and
// FuzzAppendDocument compare the two), without copying the text into a
// string first nor reflecting over the struct. A create pays this once
// per paste on the store's writer loop.
func appendDocument(b []byte, p *Paste) ([]byte, error) {
	b = append(b, `{"contents":`...)
	b = appendJSONString(b, p.Contents)
	if p.Encrypted {
		b = append(b, `,"encrypted":true`...)
	} else {
		b = append(b, `,"encrypted":false`...)
	}
	if p.Language != "" {
		b = append(b, `,"hl":`...)
		b = appendJSONString(b, []byte(p.Language))
	}
	if p.User != "" {
		b = append(b, `,"user":`...)
		b = appendJSONString(b, []byte(p.User))
	}
	if p.Comment != "" {
		b = append(b, `,"comment":`...)
		b = appendJSONString(b, []byte(p.Comment))
	}
	var err error
	if b, err = appendTime(b, `,"created":`, p.Created); err != nil {
		return nil, err
	}
	if b, err = appendTime(b, `,"expires":`, p.Expires); err != nil {
		return nil, err
	}
	if p.Burn {
		b = append(b, `,"burn":true`...)
	}
	if p.DeleteHash != "" {
		b = append(b, `,"delete_hash":`...)
		b = appendJSONString(b, []byte(p.DeleteHash))
	}
	return append(b, '}'), nil
}

// appendTime appends the field key and t as stored (storedTime), or
// nothing for the zero time. A time outside the years 0 to 9999 is an
// error, as encoding/json makes of it.
func appendTime(b []byte, key string, t time.Time) ([]byte, error) {
	st := storedTime(t)
	if st == nil {
		return b, nil
	}
	b = append(append(b, key...), '"')
	b, err := st.AppendText(b)
	if err != nil {
		return nil, fmt.Errorf("paste: encode a time: %w", err)
	}
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// escapedBelow64 has bit c set for each byte c under 64 that
// appendJSONString escapes: the control characters, '"', '&', '<' and
// '>' (above 63 only '\\' is).
const escapedBelow64 = 1<<0x20 - 1 | 1<<'"' | 1<<'&' | 1<<'<' | 1<<'>'

// appendJSONString appends s quoted as encoding/json quotes a string with
// HTML escaping on (its default): <, > and & as \u003c, \u003e, \u0026,
// control characters as \n, \t... or \u00XX, U+2028 and U+2029 escaped,
// and each byte of invalid UTF-8 as \ufffd.
func appendJSONString(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plainWord(binary.LittleEndian.Uint64(s[i:i+8])) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 64 && c != '\\' || c < 64 && escapedBelow64>>c&1 == 0 {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainWord reports whether none of the 8 bytes of x is escaped by
// appendJSONString nor starts a multi-byte character: each is ASCII, at
// least 0x20, and none of '"', '\\', '<', '>', '&'. The tests are the
// usual word-at-a-time ones: (y-0x01..)&^y has a byte's high bit set if
// some byte of y is zero (y is x xor a repeated byte), and (x-0x20..)&^x
// if some byte of x is under 0x20, for x of ASCII bytes; exact about
// whether any byte is, which is all that is asked.
func plainWord(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, bs, lt, gt, amp := x^'"'*ones, x^'\\'*ones, x^'<'*ones, x^'>'*ones, x^'&'*ones
	return (x|(x-0x20*ones)&^x|(q-ones)&^q|(bs-ones)&^bs|(lt-ones)&^lt|(gt-ones)&^gt|(amp-ones)&^amp)&highs == 0
}
