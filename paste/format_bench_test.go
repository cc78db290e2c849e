package paste

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkUnmarshal reads a stored paste of about 300 bytes and one of
// 10 MiB of text lines, as a read that misses the cache does; "twice" is
// the reader that decoded the document as a tombstone first
// (unmarshalTwice), measured in the same run.
func BenchmarkUnmarshal(b *testing.B) {
	line := []byte("the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ\n")
	created := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		size int
	}{{"300B", 200}, {"10MB", 10 << 20}} {
		text := bytes.Repeat(line, c.size/len(line)+1)[:c.size]
		data, err := Marshal(&Paste{ID: "abc", Contents: text, Language: "go", User: "ann", Comment: "a fix", Created: created})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range []struct {
			name string
			read func(string, []byte) (*Paste, error)
		}{{"once", Unmarshal}, {"twice", unmarshalTwice}} {
			b.Run(c.name+"/"+r.name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := r.read("abc", data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
