package repo

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
)

// A pack's index is read where it lies, not decoded into memory. go-git
// decodes the index of every pack it finds (28 bytes and more an object)
// and, once it reads one object of a pack, maps every offset of that pack
// to its hash: at 1M pastes (2.7M objects) that is some 200 MiB for the
// one pack of a complete repository, and the steps of a completion added
// ~100 MiB each. A packIndex keeps the fan-out table (1 KiB) in memory and
// reads the rest with ReadAt: a lookup reads a window of the names that
// share the hash's first byte, around where the hash's next bytes put it
// (find), through packSet's blockCache. An index of up to smallIndex bytes is read
// whole.
//
// Offsets map back to hashes (FindHash) through the pack's reverse index,
// the .rev file git writes: the positions in the index of the objects in
// the order of the pack. It is opened at the first FindHash, and a pack
// without one gets it then, written next to it. Reads of objects do not
// ask for it (packread.go).

// smallIndex: indexes up to this size are held in memory (the packs of a
// flush, of a merge, of most fetches).
const smallIndex = 256 << 10

const (
	idxHeader = 8 + 256*4 // magic, version, fan-out table
	revHeader = 12        // "RIDX", version, hash function
)

// errBadIndex: an index or reverse index whose layout is not git's.
var errBadIndex = errors.New("malformed pack index")

// packIndex is the index of one pack, read through idx (and rev).
type packIndex struct {
	idx, rev io.ReaderAt
	mem      []byte // idx's bytes, when it is held in memory
	closers  []io.Closer
	fanout   [256]uint32
	n        int64
	sum      plumbing.Hash // the pack's checksum
	// files and path locate the pack, for the reverse index (rev, nil
	// until the first FindHash).
	files billy.Filesystem
	path  string
}

// openPackIndex opens the index of the pack at path (without extension)
// in files.
func openPackIndex(files billy.Filesystem, path string) (*packIndex, error) {
	x := &packIndex{files: files, path: path}
	idx, err := files.Open(path + ".idx")
	if err != nil {
		return nil, err
	}
	x.idx, x.mem, err = readSmall(idx)
	if x.mem != nil || err != nil {
		idx.Close() // read whole: no file held open
	} else {
		x.closers = append(x.closers, idx)
	}
	if err == nil {
		err = x.readHeader()
	}
	if err != nil {
		x.Close()
		return nil, fmt.Errorf("index %s: %w", path, err)
	}
	return x, nil
}

// readSmall returns f, or its contents (and a reader of them) when it is
// small.
func readSmall(f billy.File) (io.ReaderAt, []byte, error) {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil || end > smallIndex {
		return f, nil, err
	}
	b := make([]byte, end)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	return bytes.NewReader(b), b, nil
}

func (x *packIndex) readHeader() error {
	var h [idxHeader]byte
	if _, err := x.idx.ReadAt(h[:], 0); err != nil {
		return err
	}
	if !bytes.Equal(h[:8], []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}) {
		return errBadIndex
	}
	for i := range x.fanout {
		x.fanout[i] = binary.BigEndian.Uint32(h[8+4*i:])
		if i > 0 && x.fanout[i] < x.fanout[i-1] {
			return errBadIndex
		}
	}
	x.n = int64(x.fanout[255])
	_, err := x.idx.ReadAt(x.sum[:], idxHeader+x.n*28)
	return err
}

// openRev returns the reverse index of the pack, written first when the
// pack has none or a wrong one: in memory for a small pack.
func (x *packIndex) openRev(files billy.Filesystem, path string) (io.ReaderAt, error) {
	if _, small := x.idx.(*bytes.Reader); small {
		return bytes.NewReader(x.buildRev()), nil
	}
	if f, err := files.Open(path + ".rev"); err == nil {
		var h [revHeader]byte
		end, err := f.Seek(0, io.SeekEnd)
		var sum plumbing.Hash
		if err == nil && end == revHeader+4*x.n+2*sha1.Size {
			_, err = f.ReadAt(h[:], 0)
			if err == nil {
				_, err = f.ReadAt(sum[:], end-2*sha1.Size)
			}
		}
		if err == nil && end == revHeader+4*x.n+2*sha1.Size && bytes.Equal(h[:], revMagic()) && sum == x.sum {
			x.closers = append(x.closers, f)
			return f, nil
		}
		f.Close()
	}
	// Written as git writes it, so that git reads it too; a crash
	// before the rename leaves a temporary file that the next open
	// overwrites.
	tmp := path + ".rev.tmp"
	if err := writeFile(files, tmp, x.buildRev()); err != nil {
		return nil, err
	}
	if err := files.Rename(tmp, path+".rev"); err != nil {
		return nil, err
	}
	f, err := files.Open(path + ".rev")
	if err != nil {
		return nil, err
	}
	x.closers = append(x.closers, f)
	return f, nil
}

func revMagic() []byte { return []byte{'R', 'I', 'D', 'X', 0, 0, 0, 1, 0, 0, 0, 1} }

// buildRev returns the reverse index of the pack: the positions of its
// objects in the index, in the order of their offsets. It holds every
// offset for a while (12 bytes an object), once per pack.
func (x *packIndex) buildRev() []byte {
	offs := make([]int64, x.n)
	for i := range offs {
		offs[i], _ = x.offsetAt(int64(i))
	}
	pos := make([]uint32, x.n)
	for i := range pos {
		pos[i] = uint32(i)
	}
	sort.Slice(pos, func(a, b int) bool { return offs[pos[a]] < offs[pos[b]] })
	b := make([]byte, 0, revHeader+4*x.n+2*sha1.Size)
	b = append(b, revMagic()...)
	for _, p := range pos {
		b = binary.BigEndian.AppendUint32(b, p)
	}
	b = append(b, x.sum[:]...)
	sum := sha1.Sum(b)
	return append(b, sum[:]...)
}

// writeFile writes data to name in files.
func writeFile(files billy.Filesystem, name string, data []byte) error {
	f, err := files.Create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the index's files.
func (x *packIndex) Close() error {
	var err error
	for _, c := range x.closers {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// findWindow is how many names a lookup reads at once (2,560 bytes, one
// or two blocks of the cache).
const findWindow = 128

// find returns the position of h in the index, and whether it is there.
// Names are SHA-1s, spread evenly: among those that share h's first byte,
// h lies about where its next bytes fall between the names known to bound
// it. A lookup reads the window of names around that guess and searches
// it in memory; at 1M pastes (~10,000 names a first byte, a guess off by
// ~50 of them) one window nearly always holds h, where a binary search
// read ~14 names in ~8 blocks. A window that misses bounds the next guess;
// after a few, the guess is the middle (a malformed index still ends).
func (x *packIndex) find(h plumbing.Hash) (int64, bool, error) {
	lo := int64(0)
	if h[0] > 0 {
		lo = int64(x.fanout[h[0]-1])
	}
	hi := int64(x.fanout[h[0]])
	key := binary.BigEndian.Uint64(h[1:9])
	klo, khi := uint64(0), uint64(math.MaxUint64) // keys bounding [lo, hi)
	var buf [findWindow * 20]byte
	for round := 0; lo < hi; round++ {
		start := lo
		if n := hi - lo; n > findWindow {
			guess := lo + n/2
			if round < 3 && klo <= key && key <= khi && klo < khi {
				guess = lo + int64(float64(key-klo)/float64(khi-klo)*float64(n))
			}
			start = min(max(guess-findWindow/2, lo), hi-findWindow)
		}
		end := min(start+findWindow, hi)
		names, err := x.names(&buf, start, end)
		if err != nil {
			return 0, false, err
		}
		count := int(end - start)
		i := searchNames(names, h)
		switch {
		case i < count && bytes.Equal(names[i*20:i*20+20], h[:]):
			return start + int64(i), true, nil
		case i == 0 && start > lo:
			hi, khi = start, binary.BigEndian.Uint64(names[1:9])
		case i == count && end < hi:
			lo, klo = end, binary.BigEndian.Uint64(names[(count-1)*20+1:])
		default:
			return 0, false, nil
		}
	}
	return 0, false, nil
}

// searchNames returns the position of the first of names (20 bytes each,
// sorted) not below h.
func searchNames(names []byte, h plumbing.Hash) int {
	lo, hi := 0, len(names)/20
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if bytes.Compare(names[mid*20:mid*20+20], h[:]) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// names returns the names at positions [start, end) of the index (at
// most findWindow): in place when it is in memory, else read into buf.
func (x *packIndex) names(buf *[findWindow * 20]byte, start, end int64) ([]byte, error) {
	from, to := idxHeader+start*20, idxHeader+end*20
	if x.mem != nil {
		if to > int64(len(x.mem)) {
			return nil, errBadIndex
		}
		return x.mem[from:to], nil
	}
	names := buf[:to-from]
	return names, x.read(names, from)
}

// read fills p from the index at off. The block cache's reader is called
// by its type, so that p, on its caller's stack, stays there.
func (x *packIndex) read(p []byte, off int64) error {
	var err error
	switch f := x.idx.(type) {
	case *cachedFile:
		_, err = f.ReadAt(p, off)
	default:
		if x.mem != nil {
			if off+int64(len(p)) > int64(len(x.mem)) {
				return io.ErrUnexpectedEOF
			}
			copy(p, x.mem[off:])
			return nil
		}
		b := make([]byte, len(p))
		_, err = x.idx.ReadAt(b, off)
		copy(p, b)
	}
	return err
}

// offsetAt returns the offset in the pack of the object at position i of
// the index.
func (x *packIndex) offsetAt(i int64) (int64, error) {
	var b [8]byte
	if err := x.read(b[:4], idxHeader+x.n*24+i*4); err != nil {
		return 0, err
	}
	off := binary.BigEndian.Uint32(b[:4])
	if off&0x80000000 == 0 {
		return int64(off), nil
	}
	if err := x.read(b[:], idxHeader+x.n*28+int64(off&0x7fffffff)*8); err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b[:])), nil
}

// hashAt returns the name at position i of the index.
func (x *packIndex) hashAt(i int64) (plumbing.Hash, error) {
	var h plumbing.Hash
	_, err := x.idx.ReadAt(h[:], idxHeader+i*20)
	return h, err
}

// Contains implements idxfile.Index.
func (x *packIndex) Contains(h plumbing.Hash) (bool, error) {
	_, ok, err := x.find(h)
	return ok, err
}

// FindOffset implements idxfile.Index.
func (x *packIndex) FindOffset(h plumbing.Hash) (int64, error) {
	i, ok, err := x.find(h)
	if err != nil || !ok {
		return 0, notFound(err)
	}
	return x.offsetAt(i)
}

// FindCRC32 implements idxfile.Index.
func (x *packIndex) FindCRC32(h plumbing.Hash) (uint32, error) {
	i, ok, err := x.find(h)
	if err != nil || !ok {
		return 0, notFound(err)
	}
	var b [4]byte
	if _, err := x.idx.ReadAt(b[:], idxHeader+x.n*20+i*4); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b[:]), nil
}

// FindHash implements idxfile.Index, through the reverse index.
func (x *packIndex) FindHash(off int64) (plumbing.Hash, error) {
	if x.rev == nil {
		rev, err := x.openRev(x.files, x.path)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("index %s: %w", x.path, err)
		}
		x.rev = rev
	}
	lo, hi := int64(0), x.n
	var b [4]byte
	for lo < hi {
		mid := lo + (hi-lo)/2
		if _, err := x.rev.ReadAt(b[:], revHeader+mid*4); err != nil {
			return plumbing.ZeroHash, err
		}
		i := int64(binary.BigEndian.Uint32(b[:]))
		if i >= x.n {
			return plumbing.ZeroHash, errBadIndex
		}
		o, err := x.offsetAt(i)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		switch {
		case o == off:
			return x.hashAt(i)
		case o < off:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return plumbing.ZeroHash, plumbing.ErrObjectNotFound
}

// Count implements idxfile.Index.
func (x *packIndex) Count() (int64, error) { return x.n, nil }

// Entries implements idxfile.Index; pasteur does not list a pack's
// objects through its index.
func (x *packIndex) Entries() (idxfile.EntryIter, error) {
	return nil, errors.New("pack index: entries are not listed")
}

// EntriesByOffset implements idxfile.Index; see Entries.
func (x *packIndex) EntriesByOffset() (idxfile.EntryIter, error) { return x.Entries() }

func notFound(err error) error {
	if err != nil {
		return err
	}
	return plumbing.ErrObjectNotFound
}

var _ idxfile.Index = (*packIndex)(nil)

// packNames returns the checksums of the packs in objects/pack that have
// an index, in the order of their names: in the repository on disk at
// dir, or in files when dir is "" (a repository in memory).
//
// On disk the names are listed with os.ReadDir, which stats nothing.
// billy's ReadDir stats each name it lists, and fails with ErrNotExist
// when a file went between the listing and its stat: a repack's Sync
// deletes the old packs, and Staged and the repack's Write rename their
// temporary files, without the lock the readers hold. Taken for a
// directory that is not there, that was a list of no packs, which
// packSet kept (listed) until the next merge or repack: every object of
// the packs read as absent.
func packNames(files billy.Filesystem, dir string) ([]plumbing.Hash, error) {
	var names []string
	if dir != "" {
		ents, err := os.ReadDir(filepath.Join(dir, "objects", "pack"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			names = append(names, e.Name())
		}
	} else {
		infos, err := files.ReadDir(files.Join("objects", "pack"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, fi := range infos {
			names = append(names, fi.Name())
		}
	}
	var out []plumbing.Hash
	for _, n := range names {
		name, ok := cutAffixes(n, "pack-", ".idx")
		if h := plumbing.NewHash(name); ok && h.String() == name {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) })
	return out, nil
}

func cutAffixes(s, prefix, suffix string) (string, bool) {
	if len(s) < len(prefix)+len(suffix) || s[:len(prefix)] != prefix || s[len(s)-len(suffix):] != suffix {
		return "", false
	}
	return s[len(prefix) : len(s)-len(suffix)], true
}
