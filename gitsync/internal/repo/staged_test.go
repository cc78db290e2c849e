package repo

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	gitplumbing "github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/paste"
)

// TestStaged: a staged commit moves the ref once finished, and is read
// back after a reopen; a blob written between Stage and Finish stays for
// the next flush; a flush in between makes Finish refuse.
func TestStaged(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	first := commit(t, r, &paste.Paste{ID: "base", Contents: []byte("base")})
	var pastes []*paste.Paste
	var blobs []Blob
	for i := range 20 {
		p := &paste.Paste{ID: fmt.Sprintf("staged%02d", i), Contents: []byte(fmt.Sprint(i))}
		doc, err := paste.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		pastes, blobs = append(pastes, p), append(blobs, MakeBlob(doc))
	}
	tip, err := r.CommitBlobs(first, pastes, blobs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := written(t, r, tip)
	late, err := r.putBlob([]byte("written while staged"))
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRef(t, r); got != first {
		t.Fatalf("the ref moved before Finish: %s", got)
	}
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := mustRef(t, r); got != tip {
		t.Fatalf("ref %s, want %s", got, tip)
	}
	if len(r.batch.order) != 1 || r.batch.order[0] != late {
		t.Errorf("after Finish the batch holds %v, want the late blob", r.batch.order)
	}

	// A flush between Stage and Finish.
	tip2, err := r.CommitPastes(tip, []*paste.Paste{{ID: "stale", Contents: []byte("x")}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s2 := written(t, r, tip2)
	if err := r.SetRef(gitplumbing.ReferenceName("refs/heads/other"), tip2); err != nil {
		t.Fatal(err)
	}
	if err := s2.Finish(); !errors.Is(err, ErrStaleStage) {
		t.Errorf("Finish after a flush: %v, want ErrStaleStage", err)
	}

	r.Close()
	r = open(t, dir)
	for _, p := range pastes {
		if data, err := r.Find(tip, p.ID); err != nil || len(data) == 0 {
			t.Errorf("%s after a reopen: %v", p.ID, err)
		}
	}
}

// TestStagedLargeAlone: one staged pack past the merge bound, alone, is
// kept (merging it alone made the same pack, which the merge then deleted
// as one of those it merged).
func TestStagedLargeAlone(t *testing.T) {
	dir := t.TempDir()
	r := open(t, dir)
	var pastes []*paste.Paste
	var blobs []Blob
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 8 {
		raw := make([]byte, stagedMergeBytes/8)
		for j := range raw {
			raw[j] = byte(rnd.Uint32())
		}
		// Text that zlib does not shrink below the bound.
		p := &paste.Paste{ID: fmt.Sprintf("large%d", i), Contents: []byte(base64.StdEncoding.EncodeToString(raw))}
		doc, err := paste.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		pastes, blobs = append(pastes, p), append(blobs, MakeBlob(doc))
	}
	tip, err := r.CommitBlobs(gitplumbing.ZeroHash, pastes, blobs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := written(t, r, tip)
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	for _, p := range pastes {
		if _, err := r.Find(tip, p.ID); err != nil {
			t.Errorf("%s: %v", p.ID, err)
		}
	}
	r.Close()
	r = open(t, dir)
	for _, p := range pastes {
		if _, err := r.Find(tip, p.ID); err != nil {
			t.Errorf("%s after a reopen: %v", p.ID, err)
		}
	}
}

// written stages tip for master and writes its files, as the committer
// does before it moves the ref.
func written(t *testing.T, r *Repo, tip gitplumbing.Hash) *Staged {
	t.Helper()
	s, err := r.Stage(master, tip)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(); err != nil {
		t.Fatal(err)
	}
	return s
}
