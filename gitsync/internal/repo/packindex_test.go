package repo

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
)

// TestPackIndex: an index read from disk finds what go-git's decoded
// index finds, the reverse index it writes is git's, byte for byte, and
// git reads the repository with it.
func TestPackIndex(t *testing.T) {
	_, _ = deltaPack(t) // requires git
	dir := filepath.Join(t.TempDir(), "r.git")
	gittest.Run(t, "", "init", "--quiet", "--bare", dir)
	var in strings.Builder
	for i := range 300 {
		in.WriteString("commit refs/heads/master\ncommitter t <t@localhost> 1700000000 +0000\ndata 2\nc\n")
		in.WriteString("M 100644 inline f\ndata " + itoa(len(strings.Repeat("x", i))+1) + "\n" + strings.Repeat("x", i) + "\n\n")
	}
	gittest.Run(t, in.String(), "--git-dir="+dir, "fast-import", "--quiet")
	gittest.Git(t, dir, "-c", "pack.threads=1", "-c", "pack.writeReverseIndex=true", "repack", "-adfq")
	revs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.rev"))
	if len(revs) != 1 {
		t.Fatalf("git wrote %d reverse indexes", len(revs))
	}
	path := strings.TrimSuffix(revs[0], ".rev")
	gitRev, err := os.ReadFile(revs[0])
	if err != nil {
		t.Fatal(err)
	}
	idxData, err := os.ReadFile(path + ".idx")
	if err != nil {
		t.Fatal(err)
	}
	want := idxfile.NewMemoryIndex()
	if err := idxfile.NewDecoder(bytes.NewReader(idxData)).Decode(want); err != nil {
		t.Fatal(err)
	}

	files := osfs.New(filepath.Join(dir, "objects", "pack"))
	name := filepath.Base(path)
	check := func(t *testing.T, x *packIndex) {
		if n, _ := x.Count(); n != int64(len(gitRev)-revHeader-40)/4 {
			t.Fatalf("%d objects, want %d", n, (len(gitRev)-revHeader-40)/4)
		}
		if rev := x.buildRev(); !bytes.Equal(rev, gitRev) {
			t.Fatal("the reverse index is not git's")
		}
		iter, err := want.Entries()
		if err != nil {
			t.Fatal(err)
		}
		for {
			e, err := iter.Next()
			if err != nil {
				break
			}
			off, err := x.FindOffset(e.Hash)
			if err != nil || off != int64(e.Offset) {
				t.Fatalf("%s at %d (%v), want %d", e.Hash, off, err, e.Offset)
			}
			if crc, err := x.FindCRC32(e.Hash); err != nil || crc != e.CRC32 {
				t.Fatalf("%s: crc %x (%v), want %x", e.Hash, crc, err, e.CRC32)
			}
			if h, err := x.FindHash(off); err != nil || h != e.Hash {
				t.Fatalf("at %d: %s (%v), want %s", off, h, err, e.Hash)
			}
		}
		absent := plumbing.NewHash("00000000000000000000000000000000000000ff")
		if _, err := x.FindOffset(absent); !errors.Is(err, plumbing.ErrObjectNotFound) {
			t.Fatalf("an absent object: %v", err)
		}
		if _, err := x.FindHash(5); !errors.Is(err, plumbing.ErrObjectNotFound) {
			t.Fatalf("an offset that starts no object: %v", err)
		}
	}
	t.Run("small", func(t *testing.T) {
		x, err := openPackIndex(files, name)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		if _, ok := x.idx.(*bytes.Reader); !ok {
			t.Fatal("a small index is not read whole")
		}
		check(t, x)
	})
	t.Run("on disk", func(t *testing.T) {
		// The reverse index is written when it is missing, and read
		// from disk.
		if err := os.Remove(path + ".rev"); err != nil {
			t.Fatal(err)
		}
		f, err := files.Open(name + ".idx")
		if err != nil {
			t.Fatal(err)
		}
		x := &packIndex{idx: f, closers: []io.Closer{f}}
		defer x.Close()
		if err := x.readHeader(); err != nil {
			t.Fatal(err)
		}
		if x.rev, err = x.openRev(files, name); err != nil {
			t.Fatal(err)
		}
		if _, ok := x.rev.(*bytes.Reader); ok {
			t.Fatal("the reverse index is in memory")
		}
		check(t, x)
		if got, _ := os.ReadFile(path + ".rev"); !bytes.Equal(got, gitRev) {
			t.Fatal("the reverse index written is not git's")
		}
		gittest.Git(t, dir, "fsck", "--strict", "--no-dangling")
		gittest.Git(t, dir, "verify-pack", path+".idx")
	})
}

func itoa(i int) string { return strconv.Itoa(i) }
