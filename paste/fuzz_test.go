package paste

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzUnmarshal: a stored document, from any writer of the repository,
// decodes or is refused, exactly as when it was decoded twice (as a
// tombstone, then as a paste); what decodes is UTF-8 and encodes again,
// and encoding is then stable.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"contents":"hi","encrypted":false}`,
		`{"contents":"a\r\nb\u0000🦀","encrypted":true,"hl":"go","user":"ann","comment":"a fix","created":"2026-11-22T05:00:00Z"}`,
		`{"contents":"x","created":"2026-11-22T05:00:00.123456789+05:30"}`,
		`{"contents":"\ud800"}`,
		`{"contents":"x","created":null,"hl":null}`,
		`{"contents":1}`, `{}`, `null`, `[]`, ``, `{"contents":"x"} trailing`,
		`{"contents":"x","expires":"2026-11-29T10:00:00Z","burn":true,"delete_hash":"sha256:00"}`,
		`{"removed":"burned","at":"2026-11-29T10:00:00.123456789Z"}`, `{"removed":null,"contents":"x"}`,
		// A paste's text that is a tombstone, or names its key, is text.
		`{"contents":"{\"removed\":\"burned\",\"at\":\"2026-11-29T10:00:00Z\"}\n","encrypted":false}`,
		`{"contents":"\"removed\":\"deleted\"","comment":"removed","hl":"removed"}`,
		// Documents that hold both, or the key in other cases, or
		// values a tombstone does not have.
		`{"contents":"x","removed":"deleted"}`, `{"removed":"expired","contents":1}`, `{"REMOVED":"burned"}`, `{"Removed":"x","contents":"y"}`,
		`{"removed":5,"contents":"x"}`, `{"removed":"burned","at":"yesterday","contents":"x"}`, `{"removed":"burned","at":null}`,
		`{"removed":"burned","removed":null,"contents":"x"}`, `{"removed":null,"removed":"burned"}`, `{"removed":1,"removed":"burned","contents":"x"}`,
		`{"contents":"x","hl":{"removed":"burned"}}`, `{"removed":{},"contents":"x"}`, `{"removed":"burned"} x`,
		// What another writer may store: invalid UTF-8 and lone
		// surrogates in the text, bad or cut escapes, huge numbers,
		// keys given twice or in other cases, deep nesting.
		"{\"contents\":\"a\xff\xfeb\xc3\xed\xa0\x80\"}", "{\"contents\":\"x\",\"user\":\"\xff\"}",
		`{"contents":"\q"}`, `{"contents":"\u12"}`, `{"contents":"\u12g4"}`, `{"contents":"\`, `{"contents":"\ud800\u"}`, `{"contents":"\'"}`,
		`{"contents":1e999}`, `{"contents":"x","encrypted":1e999}`, `{"contents":"x","burn":123456789012345678901234567890}`, `{"contents":"x","created":"99999-01-01T00:00:00Z"}`,
		`{"contents":"a","contents":"b"}`, `{"contents":"a","contents":null}`, `{"contents":null,"contents":"b"}`, `{"contents":"a","Contents":"b","CONTENTS":"c"}`,
		`{"contents":"a","contents":1}`, `{"contents":"x","burn":true,"burn":false}`, `{"contents":"x","hl":"go","hl":"c"}`,
		`{"contents":"x","x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Unmarshal("abc", data)
		want, wantErr := unmarshalTwice("abc", data)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || errors.Is(err, ErrGone) != errors.Is(wantErr, ErrGone) || !reflect.DeepEqual(p, want) {
			t.Fatalf("Unmarshal(%q) = %+v, %v; decoded twice: %+v, %v", data, p, err, want, wantErr)
		}
		if err != nil {
			return
		}
		if p.ID != "abc" || !utf8.Valid(p.Contents) {
			t.Fatalf("Unmarshal(%q): id %q, contents %q", data, p.ID, p.Contents)
		}
		b, err := Marshal(p)
		if err != nil {
			t.Fatalf("Unmarshal(%q) decoded %+v that does not encode: %v", data, p, err)
		}
		q, err := Unmarshal("abc", b)
		if err != nil {
			t.Fatalf("Marshal wrote %q that does not decode: %v", b, err)
		}
		if b2, err := Marshal(q); err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("encoding is not stable: %q then %q, %v", b, b2, err)
		}
	})
}

// unmarshalTwice is Unmarshal as it was, the reference for its fuzz
// target: the whole document decoded as a tombstone, then as a paste.
func unmarshalTwice(id string, data []byte) (*Paste, error) {
	if ts, ok := IsTombstone(data); ok {
		return nil, fmt.Errorf("paste %s: %s: %w", id, ts.Removed, ErrGone)
	}
	var r Document
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("paste: decode %s: %w", id, err)
	}
	return r.Paste(id), nil
}

// FuzzValidID: the id parser accepts exactly 1 to MaxIDLength characters
// of [A-Za-z0-9_-], which are safe as a file name and a URL path segment.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"k3x9q2m7a1b0c", "a", "X1z", "a_-Z", "-", "_", "", "a/b", "..", "é", "a b", "a\x00", strings.Repeat("z", MaxIDLength), strings.Repeat("z", MaxIDLength+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		want := len(id) >= 1 && len(id) <= MaxIDLength
		for _, c := range id {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
				want = false
			}
		}
		if got := ValidID(id); got != want {
			t.Fatalf("ValidID(%q) = %v, want %v", id, got, want)
		}
		if ValidID(id) && (strings.ContainsAny(id, "/.%?#\\") || id != strings.TrimSpace(id)) {
			t.Fatalf("ValidID(%q) accepted an unsafe name", id)
		}
	})
}

// FuzzParseExpiry: an expiry from a form or a query string parses to
// never (0) or a positive duration that FormatExpiry writes back to the
// same duration, or is refused with ErrInvalid.
func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"never", "", "90s", "10m", "1d", "1w", "1y", " 2H ", "0d", "-1d", "1x", "d", "99999999999y", "1.5h", "1e3s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseExpiry(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseExpiry(%q): %v, not ErrInvalid", s, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseExpiry(%q) = %v", s, d)
		}
		if back, err := ParseExpiry(FormatExpiry(d)); err != nil || back != d {
			t.Fatalf("ParseExpiry(%q) = %v, written %q, read back %v, %v", s, d, FormatExpiry(d), back, err)
		}
	})
}

// FuzzStoredText: the inside of any valid JSON string decodes into a
// paste's text exactly as encoding/json decodes it into a string, and
// the inside of an invalid one does not crash the decoder.
func FuzzStoredText(f *testing.F) {
	for _, s := range []string{
		``, `plain`, `a\nb\r\n\tc`, `\"\\\/\b\f`, `\u00e9\u2028\u0000`, `🦀 é`, "\xff\xfe a \xc3", `\ud83e\udd80`,
		`\ud83e`, `\udd80\ud83e`, `\ud83e\u0041`, `\ud83e\ud83e\udd80`, `\uD83E\uDD80`, `x\ud800\\u1234`, "\xed\xa0\x80",
		// Escapes JSON does not have, or cut short (refused by both).
		`\q`, `\'`, `\u12`, `\u12g4`, `\ud800\u`, `\ud800\u12`, `\ud800\`, `\`, "\x01", "\xf4\x90\x80\x80", "\xef\xbf\xbd\xc0\xaf",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, inside []byte) {
		quoted := append(append([]byte{'"'}, inside...), '"')
		var want string
		if json.Unmarshal(quoted, &want) != nil {
			// Never given one (encoding/json checks first), but
			// one must not crash it either.
			var got storedText
			_ = got.UnmarshalJSON(quoted)
			return
		}
		var got storedText
		if err := got.UnmarshalJSON(quoted); err != nil || string(got) != want {
			t.Fatalf("%q: got %q, %v; encoding/json: %q", quoted, got, err, want)
		}
	})
}
