package seal

import (
	"errors"
	"testing"
)

// FuzzParse: Parse refuses with ErrFormat, or returns an envelope of the
// sizes it promises whose text form is exactly the input (one text per
// envelope), within MaxLen of what it holds.
func FuzzParse(f *testing.F) {
	iv, ct, salt := "oKGio6Slpqeoqaqr", "jn0QQSrnIs8DFvO2cgjN1HlcxrYSvTgLNbEoxU9R7RRNLPDEQ_8", "UFFSU1RVVldYWVpbXF1eXw"
	for _, s := range []string{
		vectorKeyOnly, vectorPassword, vectorFromJS,
		"", "v1", "v1..", "v1....", "v1." + iv + "." + ct + ".100000",
		"v1." + iv + "=." + ct,
		"v1." + iv + "." + ct + ".0100000." + salt,
		"v1." + iv + "." + ct + ".+100000." + salt,
		"v1." + iv + "." + ct + ".10000000." + salt,
		"v1." + iv + "." + ct[:len(ct)-1] + "9",
		"v1." + iv + ".AAAAAAAAAAAAAAAAAAAAAA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse(%q): %v, not ErrFormat", s, err)
			}
			return
		}
		if got := e.String(); got != s {
			t.Fatalf("Parse(%q).String() = %q", s, got)
		}
		if len(e.IV) != IVSize || len(e.Ciphertext) < TagSize || e.PlaintextLen() < 0 {
			t.Fatalf("Parse(%q): iv %d bytes, ciphertext %d", s, len(e.IV), len(e.Ciphertext))
		}
		if e.NeedsPassword() != (e.Iterations > 0) ||
			e.Iterations > 0 && (e.Iterations < MinIterations || e.Iterations > MaxIterations || len(e.Salt) != SaltSize) ||
			e.Iterations == 0 && e.Salt != nil {
			t.Fatalf("Parse(%q): %d iterations, salt %d bytes", s, e.Iterations, len(e.Salt))
		}
		if len(s) > MaxLen(e.PlaintextLen()) {
			t.Fatalf("Parse(%q): %d bytes, over MaxLen(%d) = %d", s, len(s), e.PlaintextLen(), MaxLen(e.PlaintextLen()))
		}
	})
}

// FuzzParseKey: a key from a URL's fragment is refused, or is the only
// text of its key.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{vectorKey, "", vectorKey[:42], vectorKey + "A", vectorKey[:42] + "h", vectorKey[:42] + "="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err == nil && k.String() != s {
			t.Fatalf("ParseKey(%q).String() = %q", s, k.String())
		}
	})
}
