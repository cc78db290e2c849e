package repo

import (
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/paste"
)

// Pack finishes the purge's pack and returns its bytes, discarding its
// files: what the tests written before the pack went to a file read.
func (p *Purge) Pack() ([]byte, error) {
	in, err := p.Finish()
	if err != nil || in == nil {
		return nil, err
	}
	defer in.Discard()
	rd, err := in.Open()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// TestPurgePackFiles: the purge's pack is a temporary file in objects/
// while the rewrite runs, gone once discarded, and its index agrees with
// the one Receive makes of the same bytes; a rewrite that made no object
// still finishes as a valid, empty pack.
func TestPurgePackFiles(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	commit(t, r, &paste.Paste{ID: "secret", Contents: []byte("a secret")})
	clean := commit(t, r, &paste.Paste{ID: "keep", Contents: []byte("kept")})
	tip := remove(t, r, "secret")
	temps := func() []string {
		names, _ := filepath.Glob(filepath.Join(dir, "objects", "tmp_*"))
		return names
	}

	p, err := r.NewPurge(tip, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	for !p.Done() {
		if err := p.Step(1); err != nil {
			t.Fatal(err)
		}
	}
	if len(temps()) != 1 {
		t.Errorf("temporary files during the rewrite: %v", temps())
	}
	p.Discard()
	p.Discard()
	if len(temps()) != 0 {
		t.Errorf("temporary files after Discard: %v", temps())
	}

	p, _ = r.NewPurge(tip, plumbing.ZeroHash)
	for !p.Done() {
		if err := p.Step(10); err != nil {
			t.Fatal(err)
		}
	}
	in, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	rd, err := in.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	again, err := r.Receive(rd)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(in.objs, again.objs, func(a, b packObj) bool { return a.hash == b.hash && a.off == b.off && a.crc == b.crc }) || in.sum != again.sum || in.size != again.size {
		t.Errorf("the purge's index differs from Receive's")
	}
	again.Discard()
	in.Discard()
	if len(temps()) != 0 {
		t.Errorf("temporary files after Discard: %v", temps())
	}

	// A purge of a line without removed content makes no object; its
	// pack is empty and valid.
	empty, err := r.NewPurge(clean, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	for !empty.Done() {
		if err := empty.Step(10); err != nil {
			t.Fatal(err)
		}
	}
	if empty.Tip() != clean || len(temps()) != 0 {
		t.Errorf("a purge with nothing to do: tip %s, files %v", empty.Tip(), temps())
	}
	in, err = empty.Finish()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Discard()
	rd2, err := in.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rd2.Close()
	if again, err = r.Receive(rd2); err != nil {
		t.Fatalf("an empty purge pack: %v", err)
	}
	again.Discard()
}
