package paste

import (
	"encoding/json"
	"testing"
	"time"
)

// viaJSON is what Marshal wrote before appendDocument: encoding/json's
// bytes for the Document of p (without the newline), or its error.
func viaJSON(p *Paste) ([]byte, error) {
	return json.Marshal(Document{Contents: string(p.Contents), Encrypted: p.Encrypted, Language: p.Language, User: p.User, Comment: p.Comment,
		Created: storedTime(p.Created), Expires: storedTime(p.Expires), Burn: p.Burn, DeleteHash: p.DeleteHash})
}

// sameAsJSON fails t when appendDocument and encoding/json disagree on p.
func sameAsJSON(t *testing.T, p *Paste) {
	t.Helper()
	want, werr := viaJSON(p)
	got, err := appendDocument([]byte("prefix"), p)
	if (err != nil) != (werr != nil) {
		t.Fatalf("%+v: error %v, encoding/json's %v", p, err, werr)
	}
	if err == nil && string(got) != "prefix"+string(want) {
		t.Fatalf("%+v:\n got %q\nwant %q", p, got, want)
	}
}

func TestAppendDocumentIsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 30, 1, 2, 3, 456, time.FixedZone("x", 5*3600))
	for _, p := range []*Paste{
		{},
		{Contents: []byte("hi")},
		{Contents: []byte("a\"b\\c\n\r\t\b\f\x00\x01\x1f\x7f <script>&amp; \u2028\u2029 é 🦀"), Encrypted: true},
		{Contents: []byte("x"), Language: "go", User: "ann\xff", Comment: "a <fix> \xe2\x80", Created: at, Expires: at.Add(time.Hour), Burn: true, DeleteHash: "sha256:00"},
		{Contents: []byte("x"), Created: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Contents: []byte("x"), Expires: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		sameAsJSON(t, p)
	}
}

// FuzzAppendDocument: the stored bytes are encoding/json's for any
// fields, valid UTF-8 or not.
func FuzzAppendDocument(f *testing.F) {
	f.Add([]byte("hi"), "go", "ann", "a fix", int64(1764464523), int64(0), true, false)
	f.Add([]byte("<&>\u2028\x00\"\\\xff\xe2\x82"), "", "\x7f", "\t\n", int64(-62135596800-1), int64(253402300800), false, true)
	f.Add([]byte("🦀 é\r\n"), "x", "", "\u2029", int64(0), int64(1<<40), true, true)
	f.Fuzz(func(t *testing.T, text []byte, hl, user, comment string, created, expires int64, enc, burn bool) {
		p := &Paste{Contents: text, Encrypted: enc, Language: hl, User: user, Comment: comment, Burn: burn, DeleteHash: comment + hl}
		if created != 0 {
			p.Created = time.Unix(created, 0)
		}
		if expires != 0 {
			p.Expires = time.Unix(expires, 0)
		}
		sameAsJSON(t, p)
	})
}

func BenchmarkMarshal(b *testing.B) {
	p := &Paste{ID: "abcdefgh", Contents: make([]byte, 0, 2048), Language: "go", Created: time.Now(), DeleteHash: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	for len(p.Contents) < 2048 {
		p.Contents = append(p.Contents, "func main() { fmt.Println(\"the quick brown fox jumps over the lazy dog\") }\n"...)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}
