package paste

import (
	"bytes"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// storedText is a stored paste's "contents" as Unmarshal reads it: the
// JSON string decoded straight into the bytes the Paste holds, where a
// string field cost a copy for the string and another for the bytes, and
// encoding/json's decoding of a string with escapes (every text with a
// line break) goes a byte at a time. It reads every string as
// encoding/json does (FuzzStoredText), invalid UTF-8 and lone surrogates
// included.
type storedText []byte

// errNotString is a "contents" that is not a string: Unmarshal then reads
// the document as encoding/json does, and refuses it in its words.
var errNotString = errors.New("paste: contents are not a JSON string")

// UnmarshalJSON decodes the JSON value b, which encoding/json has checked
// is valid, into t; null leaves t as it is (as for a string).
func (t *storedText) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errNotString
	}
	out, ok := unquoteText(b[1 : len(b)-1])
	if !ok {
		return errNotString
	}
	*t = out
	return nil
}

// unquoteText decodes the inside of a valid JSON string as encoding/json
// does: escapes decoded, a \u escape of a lone surrogate and each byte of
// invalid UTF-8 made U+FFFD. What it returns has little room to spare.
func unquoteText(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for len(s) > 0 {
		// The run up to the next escape, in one copy when it is UTF-8.
		n := bytes.IndexByte(s, '\\')
		if n < 0 {
			n = len(s)
		}
		if run := s[:n]; utf8.Valid(run) {
			out = append(out, run...)
		} else {
			for len(run) > 0 {
				r, size := utf8.DecodeRune(run)
				if r == utf8.RuneError && size == 1 {
					out = utf8.AppendRune(out, utf8.RuneError)
				} else {
					out = append(out, run[:size]...)
				}
				run = run[size:]
			}
		}
		s = s[n:]
		if len(s) == 0 {
			break
		}
		if len(s) < 2 {
			return nil, false
		}
		switch c := s[1]; c {
		case '"', '\\', '/', '\'':
			out = append(out, c)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[2:])
			if r < 0 {
				return nil, false
			}
			s = s[6:]
			if utf16.IsSurrogate(r) {
				r1 := rune(-1)
				if len(s) >= 2 && s[0] == '\\' && s[1] == 'u' {
					r1 = hex4(s[2:])
				}
				if dec := utf16.DecodeRune(r, r1); r1 >= 0 && dec != utf8.RuneError {
					r = dec
					s = s[6:]
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, false
		}
		s = s[2:]
	}
	// out was made as large as the quoted text, which escapes make up
	// to six times the text ('<' is stored as \u003c): the paste is
	// kept (the Cache counts it by its length), so more than an eighth
	// to spare is given back, at the cost of a copy.
	if cap(out)-len(out) > len(out)/8 {
		out = append(make([]byte, 0, len(out)), out...)
	}
	return out, true
}

// hex4 is the rune of the four hex digits s starts with, or -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
