package repo

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5/plumbing"
)

// readerOf returns a packSet reading pack, indexed as objs (its checksum
// sum), and the reader of that pack.
func readerOf(t testing.TB, pack []byte, objs []packObj, sum plumbing.Hash) (*packSet, *packReader) {
	files := memfs.New()
	var idx bytes.Buffer
	if err := writeIdx(&idx, objs, sum); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(files, "p.idx", idx.Bytes()); err != nil {
		t.Fatal(err)
	}
	x, err := openPackIndex(files, "p")
	if err != nil {
		t.Fatal(err)
	}
	s := newPackSet(files, "")
	s.maxObject = fuzzLimits.Object
	return s, &packReader{f: s.blocks.file(bytes.NewReader(pack)), idx: x}
}

// corpusPack reads the pack of a file of FuzzIndexPack's corpus.
func corpusPack(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzIndexPack", name))
	if err != nil {
		t.Fatal(err)
	}
	_, lit, _ := strings.Cut(string(b), "[]byte(")
	s, err := strconv.Unquote(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(lit), ")")))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// The objects read by offset are those the pack's indexer hashed, through
// chains of offset and reference deltas (packs git made), in blocks
// smaller than the pack's objects and with a cache smaller than the pack.
func TestPackReaderReadsWhatGitWrote(t *testing.T) {
	for _, name := range []string{"ofs-deltas", "ref-deltas"} {
		pack := corpusPack(t, name)
		objs, sum, err := indexPack(bytes.NewReader(pack), fuzzLimits, int64(len(pack)), nil)
		if err != nil {
			t.Fatal(err)
		}
		s, r := readerOf(t, pack, objs, sum)
		deltas := 0
		for range 2 { // from the files, then from the cache
			for _, o := range objs {
				typ, data, n, err := s.object(r, o.off)
				if err != nil {
					t.Fatalf("%s: object at %d: %v", name, o.off, err)
				}
				if h := plumbing.ComputeHash(typ, data); h != o.hash {
					t.Fatalf("%s: object at %d is %s, want %s", name, o.off, h, o.hash)
				}
				size, err := s.objectSize(r, o.off)
				if err != nil || size != int64(len(data)) {
					t.Fatalf("%s: size at %d: %d, %v; want %d", name, o.off, size, err, len(data))
				}
				deltas += n
			}
		}
		if deltas == 0 {
			t.Fatalf("%s: no deltas read", name)
		}
	}
}

// A block cache smaller than what is read keeps what it reads right, and
// reads it again after drop.
func TestBlockCacheEvicts(t *testing.T) {
	data := make([]byte, (cachedBlocks+3)*blockSize+17)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	c := newBlockCache()
	f := c.file(bytes.NewReader(data))
	for round := range 3 {
		if round == 2 {
			c.drop() // a settle: read again from nothing
			if c.loaded != 0 || len(c.at) != 0 {
				t.Fatalf("after drop: %d slots, %d held", c.loaded, len(c.at))
			}
		}
		for off := int64(round); off < int64(len(data)); off += blockSize - 5 {
			var p [11]byte
			n, err := f.ReadAt(p[:], off)
			want := data[off:min(off+11, int64(len(data)))]
			if !bytes.Equal(p[:n], want) || (n < len(p)) != (err != nil) {
				t.Fatalf("at %d: %x, %v; want %x", off, p[:n], err, want)
			}
		}
	}
	if c.loaded != cachedBlocks || len(c.at) != cachedBlocks {
		t.Fatalf("%d slots, %d held, want %d", c.loaded, len(c.at), cachedBlocks)
	}
}

// FuzzPackRead: a pack on disk is read by offset, whatever it holds (a
// disk may corrupt it): reads never panic, hang or allocate past the
// limit, and in a pack the indexer accepts, every object reads back as it
// was hashed.
func FuzzPackRead(f *testing.F) {
	f.Add(blobPack(f, "a paste", "a paste, and more of it"))
	f.Add([]byte("PACK\x00\x00\x00\x02\xff\xff\xff\xff"))
	f.Add(thinSeed(f, true))
	f.Fuzz(func(t *testing.T, pack []byte) {
		objs, sum, err := indexPack(bytes.NewReader(pack), fuzzLimits, int64(len(pack)), nil)
		if err != nil {
			s, r := readerOf(t, pack, nil, plumbing.ZeroHash)
			for off := int64(12); off < int64(min(len(pack), 512)); off++ {
				s.object(r, off)
				s.objectSize(r, off)
			}
			return
		}
		s, r := readerOf(t, pack, objs, sum)
		for _, o := range objs {
			typ, data, _, err := s.object(r, o.off)
			if err != nil {
				t.Fatalf("object at %d: %v", o.off, err)
			}
			if h := plumbing.ComputeHash(typ, data); h != o.hash {
				t.Fatalf("object at %d is %s, want %s", o.off, h, o.hash)
			}
		}
	})
}
