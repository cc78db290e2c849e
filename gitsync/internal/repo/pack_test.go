package repo

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TestAssemblePack: stored and deflated entries, a duplicate sent once; go-git
// reads back every object.
func TestAssemblePack(t *testing.T) {
	src := memory.NewStorage()
	var objs []plumbing.EncodedObject
	for _, data := range []string{"", "small", strings.Repeat("large and compressible ", 1000)} {
		o := src.NewEncodedObject()
		o.SetType(plumbing.BlobObject)
		w, _ := o.Writer()
		io.WriteString(w, data)
		w.Close()
		objs = append(objs, o)
	}
	var enc entryEncoder
	var entries []packEntry
	for _, o := range append(objs, objs[1]) {
		e, err := enc.encode(o)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	if n := len(entries[2].data); n > 2000 {
		t.Errorf("the large object takes %d bytes, want it deflated", n)
	}
	pack, _ := assemblePack(entries)
	dst := memory.NewStorage()
	if err := packfile.UpdateObjectStorage(dst, bytes.NewReader(pack)); err != nil {
		t.Fatal(err)
	}
	if n := len(dst.Objects); n != len(objs) {
		t.Errorf("%d objects stored, want %d", n, len(objs))
	}
	for _, o := range objs {
		got, err := dst.EncodedObject(plumbing.BlobObject, o.Hash())
		if err != nil {
			t.Fatalf("%s: %v", o.Hash(), err)
		}
		a, _ := got.Reader()
		b, _ := o.Reader()
		x, _ := io.ReadAll(a)
		y, _ := io.ReadAll(b)
		if !bytes.Equal(x, y) {
			t.Errorf("%s: contents differ", o.Hash())
		}
	}
}

// TestWriteStored: the stored streams read back as zlib, at the sizes where
// blocks begin and end.
func TestWriteStored(t *testing.T) {
	for _, n := range []int{0, 1, 4 << 10, 0xffff, 0xffff + 1, 3*0xffff + 7} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i * 7)
		}
		var buf bytes.Buffer
		if err := writeStored(&buf, bytes.NewReader(data), int64(n)); err != nil {
			t.Fatal(err)
		}
		zr, err := zlib.NewReader(&buf)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, err := io.ReadAll(zr)
		if err == nil {
			err = zr.Close()
		}
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: read back %d bytes, %v", n, len(got), err)
		}
		if buf.Len() != 0 {
			t.Errorf("%d bytes: %d bytes after the stream", n, buf.Len())
		}
	}
}
