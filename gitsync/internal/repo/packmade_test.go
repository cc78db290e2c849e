package repo

import (
	"bytes"
	"os"
	"testing"
)

// writeMade writes the pack and index it is given, read-only from the
// start, and Discard removes them.
func TestWriteMade(t *testing.T) {
	dir := t.TempDir()
	pack := bytes.Repeat([]byte("pack"), 300_001)
	idx := bytes.Repeat([]byte("idx"), 1000)
	p := &Received{dir: dir}
	if err := p.writeMade(pack, idx); err != nil {
		t.Fatal(err)
	}
	if p.size != int64(len(pack)) {
		t.Errorf("size %d, want %d", p.size, len(pack))
	}
	for _, f := range []struct {
		name string
		want []byte
	}{{p.pack, pack}, {p.idx, idx}} {
		got, err := os.ReadFile(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.want) {
			t.Errorf("%s: read back %d bytes, not the %d written", f.name, len(got), len(f.want))
		}
		if fi, err := os.Stat(f.name); err != nil || fi.Mode().Perm() != 0o444 {
			t.Errorf("%s: mode %v, %v; want read-only", f.name, fi.Mode(), err)
		}
	}
	p.Discard()
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("left after Discard: %v", names)
	}
}
