package wal

import (
	"bytes"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	recs := []Record{{ID: "abc", Doc: []byte(`{"contents":"x","encrypted":false}` + "\n")}, {ID: "d", Doc: nil}}
	var b []byte
	for _, r := range recs {
		b = Append(b, r)
	}
	got, n, err := Parse(b, 1<<20)
	if err != nil || n != len(b) || len(got) != 2 || got[0].ID != "abc" || !bytes.Equal(got[0].Doc, recs[0].Doc) || got[1].ID != "d" {
		t.Fatalf("Parse = %v, %d, %v", got, n, err)
	}
	// Every cut of the last record, and a flipped bit, keeps the first only.
	first := len(Append(nil, recs[0]))
	for cut := first + 1; cut < len(b); cut++ {
		if got, n, err := Parse(b[:cut], 1<<20); err == nil || n != first || len(got) != 1 {
			t.Errorf("cut at %d: %d records, n %d, err %v", cut, len(got), n, err)
		}
	}
	bad := bytes.Clone(b)
	bad[len(bad)-1] ^= 1
	if got, n, err := Parse(bad, 1<<20); err == nil || n != first || len(got) != 1 {
		t.Errorf("flipped bit: %d records, n %d, err %v", len(got), n, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Append(nil, Record{ID: "abcdefghijklm", Doc: []byte(`{"contents":"hello","encrypted":false}` + "\n")}))
	f.Add(Append(Append(nil, Record{ID: "a", Doc: []byte("{}")}), Record{ID: "b"})[:20])
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 'P'})
	// Files with a header: ended, then what an earlier generation left.
	headed := AppendRecord(AppendHeader(nil, 3), 3, Record{ID: "abc", Doc: []byte("{}")})
	f.Add(AppendEnd(bytes.Clone(headed)))
	f.Add(append(AppendEnd(bytes.Clone(headed)), AppendRecord(nil, 2, Record{ID: "old", Doc: []byte("x")})...))
	f.Add(AppendRecord(bytes.Clone(headed), 2, Record{ID: "old", Doc: []byte("x")}))
	f.Add(AppendHeader(nil, 1)[:10])
	// An emptying torn: the next generation's header over records of
	// the last, its end half written.
	torn := AppendRecord(AppendRecord(AppendHeader(nil, 5), 5, Record{ID: "c1", Doc: []byte("{}")}), 5, Record{ID: "c2"})
	f.Add(append(AppendHeader(nil, 6), append(make([]byte, 4), torn[20:]...)...))
	// An append torn: a record of this generation, then one of the last
	// where the end should be.
	f.Add(AppendRecord(AppendRecord(AppendHeader(nil, 6), 6, Record{ID: "n1", Doc: []byte("{}")}), 5, Record{ID: "c2"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, n, err := Parse(data, 1<<16)
		gen, headed, herr := parseHeader(data)
		clean := n == len(data) || headed && herr == nil && bytes.HasPrefix(data[n:], endRecord[:])
		if n > len(data) || (err == nil) != clean {
			t.Fatalf("n %d of %d, err %v", n, len(data), err)
		}
		// What parses re-encodes to the same bytes.
		var b []byte
		if headed && herr == nil {
			b = AppendHeader(b, gen)
		}
		for _, r := range recs {
			if r.ID == "" {
				t.Fatal("empty id")
			}
			if headed {
				b = AppendRecord(b, gen, r)
			} else {
				b = Append(b, r)
			}
		}
		if !bytes.Equal(b, data[:n]) {
			t.Fatal("records do not re-encode to what they were parsed from")
		}
	})
}
