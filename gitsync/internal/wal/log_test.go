package wal

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func rec(id, doc string) Record { return Record{ID: id, Doc: []byte(doc)} }

// ids opens the log at path again and returns the ids each file holds.
func ids(t *testing.T, path string) [2][]string {
	t.Helper()
	l, data, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var got [2][]string
	for i, d := range data {
		recs, _, err := Parse(d, MaxPayload)
		if err != nil {
			t.Errorf("file %d: %v", i, err)
		}
		for _, r := range recs {
			got[i] = append(got[i], r.ID)
		}
	}
	return got
}

// TestLogReused: a file emptied keeps its length, and what it held before
// is never read again, whether the new records are shorter or the same
// length as the old ones (where an old record starts where a new one
// would).
func TestLogReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Write([]Record{rec("a1", "one"), rec("a2", "two")}); err != nil {
		t.Fatal(err)
	}
	if err := l.Write([]Record{rec("a3", "three")}); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, path); !slices.Equal(got[0], []string{"a1", "a2", "a3"}) || got[1] != nil {
		t.Fatalf("after the appends: %q", got)
	}
	if err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := l.Write([]Record{rec("b1", "in the other file")}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path + ".0")
	if err := l.EmptyInactive(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path + ".0")
	if after.Size() != before.Size() {
		t.Errorf("emptied: %d bytes, before %d: the file was truncated", after.Size(), before.Size())
	}
	if got := ids(t, path); got[0] != nil || !slices.Equal(got[1], []string{"b1"}) {
		t.Fatalf("after emptying file 0: %q", got)
	}
	if l.Size() == 0 {
		t.Error("Size is 0 with b1 logged")
	}
	// Back to file 0: a record of the same length as a1 lands where a1
	// was; a2 and a3 behind it stay unread.
	if err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := l.Write([]Record{rec("c1", "one")}); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, path); !slices.Equal(got[0], []string{"c1"}) || !slices.Equal(got[1], []string{"b1"}) {
		t.Fatalf("after appending to the emptied file: %q", got)
	}
	// Without the end record (an append torn before it), the old a2
	// behind c1 fails its checksum: the file ends at c1, torn.
	data, _ := os.ReadFile(path + ".0")
	end := fileHeaderSize + len(AppendRecord(nil, 0, rec("c1", "one")))
	stale := AppendRecord(nil, 1, rec("a2", "two"))
	copy(data[end:], stale) // a record of another generation, where it would be read
	recs, n, err := Parse(data, MaxPayload)
	if len(recs) != 1 || n != end || err == nil {
		t.Errorf("a stale record after the last: %d records, n %d of %d, err %v", len(recs), n, end, err)
	}
}

// TestLogLegacy: a file without a header (as pasteur wrote it before) is
// read as it is, appended to as it is, and emptied into the header's form.
func TestLogLegacy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var old []byte
	old = Append(old, rec("x1", "old one"))
	old = Append(old, rec("x2", "old two"))
	if err := os.WriteFile(path+".0", old, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", nil, 0o600); err != nil { // emptied, as it was
		t.Fatal(err)
	}
	if got := ids(t, path); !slices.Equal(got[0], []string{"x1", "x2"}) || got[1] != nil {
		t.Fatalf("the old log: %q", got)
	}
	l, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Size() != int64(len(old)) {
		t.Errorf("Size %d, want %d", l.Size(), len(old))
	}
	if err := l.Write([]Record{rec("x3", "appended")}); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, path); !slices.Equal(got[0], []string{"x1", "x2", "x3"}) {
		t.Fatalf("appended to the old file: %q", got)
	}
	if err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := l.EmptyInactive(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path + ".0")
	if _, headed, err := parseHeader(data); !headed || err != nil || len(data) != fileHeaderSize+headerSize {
		t.Errorf("emptied old file: %d bytes, header %v, %v", len(data), headed, err)
	}
	if err := l.Write([]Record{rec("y1", "new")}); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, path); got[0] != nil || !slices.Equal(got[1], []string{"y1"}) {
		t.Fatalf("after the conversion: %q", got)
	}
}

// TestLogTornHeader: a header torn as it was written (over records
// committed before) leaves a file that Open makes new, and a torn
// header is reported by Parse.
func TestLogTornHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	b := AppendRecord(AppendHeader(nil, 7), 7, rec("z", "committed"))
	b[13] ^= 1 // the header's checksum
	if err := os.WriteFile(path+".0", b, 0o600); err != nil {
		t.Fatal(err)
	}
	l, data, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if recs, n, err := Parse(data[0], MaxPayload); len(recs) != 0 || n != 0 || err == nil {
		t.Errorf("torn header: %d records, n %d, err %v", len(recs), n, err)
	}
	if l.Size() != 0 {
		t.Errorf("Size %d, want 0", l.Size())
	}
	if err := l.Write([]Record{rec("w", "new")}); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, path); !slices.Equal(got[0], []string{"w"}) {
		t.Fatalf("after the torn header: %q", got)
	}
	again, _ := os.ReadFile(path + ".0")
	if bytes.Equal(again[4:12], b[4:12]) {
		t.Error("the new header kept the generation of the torn one")
	}
}
