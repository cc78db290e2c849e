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
	if _, err := Marshal(&Paste{Contents: []byte{0xff}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("non-UTF-8 marshalled: %v", err)
	}
}
