package web

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// cleanText makes a one-line value that shows what it says, wherever it
// goes (the page, a commit, a terminal running git log): terminal escape
// sequences (ESC [ ... m and the like) are removed whole, other control
// characters become spaces, format characters (bidi overrides such as
// U+202E, zero-width characters) are removed, runs of space collapse, and
// it is cut to max bytes on a rune boundary.
func cleanText(v string, max int) string {
	v = stripEscapes(strings.ToValidUTF8(v, "\uFFFD"))
	v = strings.Map(func(c rune) rune {
		if unicode.Is(unicode.Cf, c) {
			return -1
		}
		return c
	}, v)
	v = strings.Join(strings.FieldsFunc(v, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }), " ")
	for len(v) > max {
		_, size := utf8.DecodeLastRuneInString(v)
		v = v[:len(v)-size]
	}
	return strings.TrimRight(v, " ")
}

// cleanUser is cleanText for a user name, which becomes a commit's
// author: git cannot hold '<' or '>' there, so they are removed too, and
// the page shows the name the commit holds.
func cleanUser(v string, max int) string {
	return cleanText(strings.Map(func(c rune) rune {
		if c == '<' || c == '>' {
			return ' '
		}
		return c
	}, strings.ToValidUTF8(v, "\uFFFD")), max)
}

// stripEscapes removes ECMA-48 escape sequences: CSI (ESC [ or U+009B,
// parameters, intermediates, a final byte), OSC, DCS and the other
// strings (ESC ], P, X, ^, _ up to BEL or ST), and two-byte escapes.
// What is left of a truncated sequence goes with it.
func stripEscapes(s string) string {
	if !strings.ContainsAny(s, "\x1b\u009b\u009d\u0090\u0098\u009e\u009f") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[', c == 0x9b:
			if c == 0x1b {
				size = 2
			}
			i = skipCSI(s, i+size)
		case c == 0x1b && i+1 < len(s) && strings.IndexByte("]PX^_", s[i+1]) >= 0,
			c == 0x9d, c == 0x90, c == 0x98, c == 0x9e, c == 0x9f:
			if c == 0x1b {
				size = 2
			}
			i = skipString(s, i+size)
		case c == 0x1b:
			i += size
			if i < len(s) {
				_, n := utf8.DecodeRuneInString(s[i:])
				i += n
			}
		default:
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String()
}

// skipCSI returns the index after the control sequence whose parameters
// start at i: parameter bytes 0x30-0x3F, intermediates 0x20-0x2F, a
// final byte 0x40-0x7E.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString returns the index after the control string starting at i,
// ended by BEL, ESC \ or U+009C (or the end of s).
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}
