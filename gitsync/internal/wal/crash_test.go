package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// disk models what a crash leaves of the log's files: what they held at
// their last fdatasync that succeeded. A failed one keeps nothing new (the
// kernel may mark the pages clean without writing them).
type disk struct {
	t       *testing.T
	path    string
	durable map[string][]byte
	fail    bool // the next fdatasyncs fail
}

func newDisk(t *testing.T, l *Log, path string) *disk {
	d := &disk{t: t, path: path, durable: make(map[string][]byte)}
	for _, f := range l.files {
		d.keep(f.Name())
	}
	l.sync = d.sync
	return d
}

func (d *disk) keep(name string) {
	b, err := os.ReadFile(name)
	if err != nil {
		d.t.Fatal(err)
	}
	d.durable[name] = b
}

func (d *disk) sync(f *os.File) error {
	if d.fail {
		return errors.New("EIO")
	}
	d.keep(f.Name())
	return nil
}

// crash writes what the disk kept over the files and returns the ids
// each file holds when the log is opened again.
func (d *disk) crash() [2][]string {
	d.t.Helper()
	dir := d.t.TempDir()
	for name, b := range d.durable {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), b, 0o600); err != nil {
			d.t.Fatal(err)
		}
	}
	return ids(d.t, filepath.Join(dir, filepath.Base(d.path)))
}

// TestLogEmptyingSyncFails: an emptying whose fdatasync failed is
// written again by the next EmptyInactive, even when the file it empties
// became the active one and took no append since: otherwise a crash
// brings its committed records back, to be replayed (a paste removed
// since its commit comes back). Empty is false until then.
func TestLogEmptyingSyncFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := newDisk(t, l, path)
	if err := l.Write([]Record{rec("a1", "committed, then removed")}); err != nil {
		t.Fatal(err)
	}
	// The committer: the other file active, a1 committed, file 0 emptied.
	if err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	d.fail = true
	if err := l.EmptyInactive(); err == nil {
		t.Fatal("EmptyInactive with a failing fdatasync: no error")
	}
	d.fail = false
	if l.Empty() {
		t.Error("Empty with the emptying of file 0 not durable")
	}
	// The next commit of the log, with nothing logged (a Remove's): file
	// 0 is the active one now.
	if err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := l.EmptyInactive(); err != nil {
		t.Fatal(err)
	}
	if !l.Empty() {
		t.Error("not Empty after the emptying was written again")
	}
	if got := d.crash(); got[0] != nil || got[1] != nil {
		t.Fatalf("after a crash: %q, want nothing", got)
	}
}

// TestLogAppendSyncFails: an append whose fdatasync failed is not
// acknowledged; the appends after it are durable and read back, with
// those before, whatever the failed one left in the file.
func TestLogAppendSyncFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := newDisk(t, l, path)
	if err := l.Write([]Record{rec("a1", "acked")}); err != nil {
		t.Fatal(err)
	}
	d.fail = true
	if err := l.Write([]Record{rec("a2", "a long record whose fdatasync fails")}); err == nil {
		t.Fatal("Write with a failing fdatasync: no error")
	}
	d.fail = false
	if err := l.Write([]Record{rec("a3", "short")}); err != nil {
		t.Fatal(err)
	}
	if got := d.crash(); !slices.Equal(got[0], []string{"a1", "a3"}) {
		t.Fatalf("after a crash: %q, want a1 a3", got)
	}
	// Everything written reached the disk (the failed writeback too):
	// the same.
	if got := ids(t, path); !slices.Equal(got[0], []string{"a1", "a3"}) {
		t.Fatalf("the files as written: %q, want a1 a3", got)
	}
}

// TestLogTornAppend: an append torn by a crash, over a file reused, any
// of its bytes written or not in one run from its start or to its end,
// leaves the records acknowledged before it and none of what the file
// held before its emptying, though records of that earlier generation
// lie where the new ones' lengths lead.
func TestLogTornAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	l, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	old := []Record{rec("o1", "one"), rec("o2", "two"), rec("o3", "three"), rec("o4", "four")}
	for _, r := range old {
		if err := l.Write([]Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := l.EmptyInactive(); err != nil {
		t.Fatal(err)
	}
	if err := l.Rotate(); err != nil {
		t.Fatal(err)
	}
	// Records of the same lengths as the old ones: each lands where an
	// old one was.
	if err := l.Write([]Record{rec("n1", "one")}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	before, err := os.ReadFile(path + ".0")
	if err != nil {
		t.Fatal(err)
	}
	gen, _, _ := parseHeader(before)
	_, at, _ := Parse(before, MaxPayload)
	write := AppendEnd(AppendRecord(AppendRecord(nil, gen, rec("n2", "two")), gen, rec("n3", "three")))
	for k := 0; k <= len(write); k++ {
		for _, torn := range []struct {
			name     string
			from, to int
		}{{"head", 0, k}, {"tail", k, len(write)}} {
			b := bytes.Clone(before)
			copy(b[at+torn.from:], write[torn.from:torn.to])
			recs, _, _ := Parse(b, MaxPayload)
			var got []string
			for _, r := range recs {
				got = append(got, r.ID)
			}
			if len(got) == 0 || got[0] != "n1" || !slices.Equal(got[1:], []string{"n2", "n3"}[:len(got)-1]) {
				t.Errorf("%s of the append up to %d written: %q", torn.name, k, got)
			}
		}
	}
}

// TestLogTornHeaderTruncated: a file whose header Open finds torn is cut
// to a new header and end, whatever it held: the clock that gives its
// new generation may have been set back to one of those it held.
func TestLogTornHeaderTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	b := AppendHeader(nil, 7)
	for range 10 {
		b = AppendRecord(b, 7, rec("z", "committed"))
	}
	b[13] ^= 1
	if err := os.WriteFile(path+".0", b, 0o600); err != nil {
		t.Fatal(err)
	}
	l, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := os.Stat(path + ".0")
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != fileHeaderSize+headerSize {
		t.Errorf("the file with a torn header: %d bytes after Open, want %d", st.Size(), fileHeaderSize+headerSize)
	}
}

// TestLogTornEmptying: an emptying torn by a crash (its header and end
// written over a file of committed records, in part, from their start or
// to their end; the file in the header's form or without it) leaves a
// file that Open takes, holding none of those records, and that takes
// appends once what Open read is committed and emptied (as gitsync's
// Open does: a file without a header is appended to after its last
// record's bytes, torn or not).
func TestLogTornEmptying(t *testing.T) {
	committed := []Record{rec("c1", "committed one"), rec("c2", "committed two")}
	var headed, legacy []byte
	headed = AppendHeader(headed, 41)
	for _, r := range committed {
		headed = AppendRecord(headed, 41, r)
		legacy = Append(legacy, r)
	}
	headed = AppendEnd(headed)
	for _, old := range []struct {
		name string
		b    []byte
		gen  uint64
	}{{"headed", headed, 42}, {"legacy", legacy, 1}} {
		write := AppendEnd(AppendHeader(nil, old.gen))
		for k := 0; k <= len(write); k++ {
			for _, torn := range []struct {
				name     string
				from, to int
			}{{"head", 0, k}, {"tail", k, len(write)}} {
				b := bytes.Clone(old.b)
				copy(b, write[torn.from:torn.to])
				path := filepath.Join(t.TempDir(), "log")
				if err := os.WriteFile(path+".0", b, 0o600); err != nil {
					t.Fatal(err)
				}
				l, data, err := Open(path)
				if err != nil {
					t.Fatalf("%s, %s of the emptying up to %d written: Open: %v", old.name, torn.name, k, err)
				}
				recs, _, _ := Parse(data[0], MaxPayload)
				partial := !bytes.Equal(b, old.b)
				if partial && len(recs) != 0 && (old.name != "legacy" || k != 0) {
					// What Open read is replayed: committed records are
					// skipped by the replay, but none should come of an
					// emptying that reached the file.
					t.Errorf("%s, %s of the emptying up to %d written: %d records read", old.name, torn.name, k, len(recs))
				}
				// As gitsync's Open does: what the log holds is
				// committed, both files emptied, before an append.
				if len(recs) != 0 || l.Size() != 0 {
					for range 2 {
						if err := l.Rotate(); err != nil {
							t.Fatal(err)
						}
						if err := l.EmptyInactive(); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := l.Write([]Record{rec("n1", "new")}); err != nil {
					t.Fatal(err)
				}
				l.Close()
				if got := ids(t, path); len(got[0]) == 0 || got[0][len(got[0])-1] != "n1" {
					t.Errorf("%s, %s of the emptying up to %d written: after an append: %q", old.name, torn.name, k, got)
				}
			}
		}
	}
}
