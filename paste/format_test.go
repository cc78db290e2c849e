package paste

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestFormatRoundTrip(t *testing.T) {
	created := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	p := &Paste{ID: "abc", Contents: []byte("a\r\nb\t🦀 <&>"), Encrypted: true, Language: "go", User: "ann", Comment: "a note", Created: created}
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Unmarshal("abc", b)
	if err != nil || !bytes.Equal(q.Contents, p.Contents) || !q.Encrypted || q.Language != "go" || q.User != "ann" || q.Comment != "a note" || !q.Created.Equal(created) {
		t.Fatalf("got %+v, %v", q, err)
	}
	orig, err := Unmarshal("X1z", []byte(`{"contents":"hi","encrypted":false}`))
	if err != nil || string(orig.Contents) != "hi" {
		t.Fatalf("original format: %+v %v", orig, err)
	}
	// The stored bytes, exactly: encoding/json's, HTML escaped, and a
	// newline.
	p = &Paste{ID: "abc", Contents: []byte("a\r\nb\t🦀 <&> \"q\" \u2028"), Encrypted: true, Language: "go", User: "ann", Comment: "a note",
		Created: created, Expires: created.Add(time.Hour), Burn: true, DeleteHash: "h"}
	want := "{\"contents\":\"a\\r\\nb\\t🦀 \\u003c\\u0026\\u003e \\\"q\\\" \\u2028\",\"encrypted\":true,\"hl\":\"go\",\"user\":\"ann\",\"comment\":\"a note\",\"created\":\"2026-11-22T05:00:00Z\",\"expires\":\"2026-11-22T06:00:00Z\",\"burn\":true,\"delete_hash\":\"h\"}\n"
	if b, err := Marshal(p); err != nil || string(b) != want {
		t.Fatalf("stored as %q, %v; want %q", b, err, want)
	}
	if _, err := Marshal(&Paste{Contents: []byte{0xff}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("non-UTF-8 marshalled: %v", err)
	}
}

// A read tells a tombstone from a paste by the document's own keys: a
// paste's text, whatever it holds, reads back as the paste.
func TestUnmarshalTombstoneOrPaste(t *testing.T) {
	tomb := string(MarshalTombstone(Burned, time.Date(2026, 11, 29, 10, 0, 0, 1, time.UTC)))
	stored, err := Marshal(&Paste{ID: "abc", Contents: []byte(tomb)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		doc  string
		gone bool
		text string
	}{
		{tomb, true, ""},
		{string(stored), false, tomb},
		{`{"contents":"\"removed\":\"deleted\"","comment":"removed"}`, false, `"removed":"deleted"`},
		{`{"contents":"x","removed":"deleted"}`, true, ""},
		{`{"REMOVED":"expired"}`, true, ""},
		{`{"removed":"expired","contents":1}`, true, ""},
		{`{"removed":null,"contents":"x"}`, false, "x"},
		{`{"removed":5,"contents":"x"}`, false, "x"},
		{`{"removed":"burned","at":"yesterday","contents":"x"}`, false, "x"},
		{`{"contents":"x","hl":{"removed":"burned"}}`, false, ""},
	} {
		p, err := Unmarshal("abc", []byte(c.doc))
		switch {
		case c.gone && !errors.Is(err, ErrGone):
			t.Errorf("%s: got %+v, %v; want ErrGone", c.doc, p, err)
		case !c.gone && c.text == "" && (err == nil || errors.Is(err, ErrGone)):
			t.Errorf("%s: got %+v, %v; want a decode error", c.doc, p, err)
		case !c.gone && c.text != "" && (err != nil || string(p.Contents) != c.text):
			t.Errorf("%s: got %+v, %v; want the text %q", c.doc, p, err, c.text)
		}
	}
}

// TestUnmarshalKeepsNoSpareText: a decoded paste's bytes are about as
// large as its text, however many escapes the document held (Marshal
// writes six bytes for each '<', two for each line break), since the
// Cache keeps pastes and counts them by their length.
func TestUnmarshalKeepsNoSpareText(t *testing.T) {
	for name, text := range map[string][]byte{
		"<":           bytes.Repeat([]byte("<"), 1<<20),
		"line breaks": bytes.Repeat([]byte("a\n"), 1<<19),
		"code":        bytes.Repeat([]byte("func main() {\n\tfmt.Println(\"<&>\")\n}\n"), 1<<15),
		"plain":       bytes.Repeat([]byte("a"), 1<<20),
		"empty":       {},
	} {
		b, err := Marshal(&Paste{ID: "abc", Contents: text})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Unmarshal("abc", b)
		if err != nil || !bytes.Equal(p.Contents, text) {
			t.Fatalf("%s: %v", name, err)
		}
		if c, n := cap(p.Contents), len(p.Contents); c > n+n/8 {
			t.Errorf("%s: %d bytes of text hold %d (stored in %d)", name, n, c, len(b))
		}
	}
}
