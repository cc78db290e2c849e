package repo

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// A repack writes the packs of the repository into one pack that holds
// every object once, with its index and reverse index, then deletes them.
// A completion leaves many packs, and the bases that each thin step
// appended whole are copies of objects an earlier pack holds (at 1M
// pastes, 375 MB of packs against the remote's 189 MB).
//
// Objects are copied as they are stored, deltas kept, never inflated: the
// packs are taken oldest first, each in the order of its offsets, and a
// copy of an object that an earlier pack holds is dropped (a k-way merge
// of the indexes, which git sorts by name, finds them). An OFS_DELTA gets
// its distance rewritten: its base is before it in the new pack, the
// base's own copy moved back by what was dropped before it, or the copy
// kept in an earlier pack. A REF_DELTA names its base, which the new pack
// holds. The new index is the same merge again.
//
// Memory stays bounded whatever the objects: the merge reads each index
// through a buffer; the new offset, CRC-32 and position of each object go
// to a temporary file per pack (16 bytes an object, read back by position);
// what moved within the pack being copied is a list of the entries that
// were dropped or changed size (32 bytes each); a pack without a .rev has
// its order built in memory (12 bytes an object of that pack, as
// packIndex.buildRev); a bit an object marks the dropped copies.
//
// In steps, as Staged: PlanRepack (locked) picks the packs and opens
// them; Write (not locked) reads only those files and writes the new pack,
// index and reverse index to temporary files, fsyncs them and renames
// them into objects/pack; Finish (locked) reads the new pack from then on
// and renames the old ones' indexes away; Sync (not locked) deletes them.
// A crash before the new pack's renames leaves temporary files that Open
// removes; after, both copies, which read the same; an old pack whose
// index was renamed away is not read, and the next PlanRepack removes
// it.

// repackBuffer is the buffer of each reader and writer of a repack.
const repackBuffer = 64 << 10

// RepackStats describes a repack.
type RepackStats struct {
	Packs   int   // packs repacked
	Objects int64 // objects of the new pack
	Dropped int64 // copies dropped
	Rebased int64 // deltas whose base's copy was dropped: against the one kept
	Before  int64 // bytes of the packs repacked
	After   int64 // bytes of the new pack
}

// Repacking is a repack between its steps.
type Repacking struct {
	r     *Repo
	dir   string // objects/pack
	srcs  []*repackSrc
	fan   [256]uint32
	sum   plumbing.Hash
	temps []*os.File
	ctx   context.Context // Write's
	gone  []*repackSrc    // taken out by Finish, deleted by Sync
	Stats RepackStats
}

// repackSrc is a pack being repacked.
type repackSrc struct {
	sum     plumbing.Hash
	path    string // without extension
	idx     *packIndex
	pack    *os.File
	size    int64
	mtime   time.Time
	dropped []uint64 // by position in the index: the copies dropped
	newMap  *os.File // by position in the index: newRecord
	base    int64    // where its first object went in the new pack
}

// newRecord is where an object went: its offset in the new pack, its
// entry's CRC-32 and its position in the new pack's order.
const newRecord = 16

// stagingSet is the packs that Staged.Write installed and Finish has not
// taken yet: a repack leaves them.
type stagingSet struct {
	mu   sync.Mutex
	sums map[plumbing.Hash]bool
}

func (s *stagingSet) set(h plumbing.Hash, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sums == nil {
		s.sums = make(map[plumbing.Hash]bool)
	}
	if on {
		s.sums[h] = true
	} else {
		delete(s.sums, h)
	}
}

// PlanRepack returns a repack of the packs of the repository when there
// are more than over of them (nil otherwise, and for a repository in
// memory): all but those that flush wrote since the last merge, and
// with geometric, but each pack larger than twice the smaller ones
// together, as git repack --geometric=2 leaves them (so that the
// repacks of a server that keeps writing copy its small packs, not its
// large one, again). It opens their files, so that Write reads them
// without the lock.
func (r *Repo) PlanRepack(over int, geometric bool) (*Repacking, error) {
	if r.disk == nil {
		return nil, nil
	}
	dir := filepath.Join(r.disk.dir, "objects", "pack")
	if err := removeOrphans(dir); err != nil {
		return nil, fmt.Errorf("repack: %w", err)
	}
	names, err := packNames(r.files)
	if err != nil {
		return nil, fmt.Errorf("repack: %w", err)
	}
	if len(names) <= max(over, 1) {
		return nil, nil
	}
	leave := r.keptByRepack()
	rp := &Repacking{r: r, dir: dir}
	for _, h := range names {
		if leave[h] {
			continue
		}
		if err := rp.open(h); err != nil {
			rp.Discard()
			return nil, fmt.Errorf("repack: %w", err)
		}
	}
	if geometric {
		rp.leaveLarge()
	}
	if len(rp.srcs) < 2 {
		rp.Discard()
		return nil, nil
	}
	// Oldest first: the bases a thin step appended come after the pack
	// that holds them, mostly as deltas, which are what is kept.
	slices.SortStableFunc(rp.srcs, func(a, b *repackSrc) int { return a.mtime.Compare(b.mtime) })
	rp.Stats.Packs = len(rp.srcs)
	return rp, nil
}

// leaveLarge takes out of the repack each pack larger than twice the
// smaller ones together, from the largest down.
func (rp *Repacking) leaveLarge() {
	slices.SortStableFunc(rp.srcs, func(a, b *repackSrc) int { return cmp.Compare(b.size, a.size) })
	rest := rp.Stats.Before
	for len(rp.srcs) > 1 {
		s := rp.srcs[0]
		if s.size <= 2*(rest-s.size) {
			break
		}
		rest -= s.size
		s.close()
		rp.srcs = rp.srcs[1:]
	}
	rp.Stats.Before = rest
}

// keptByRepack returns the packs a repack leaves: what flush wrote since
// the last merge (merged and deleted then), and what a Staged wrote that
// is not finished.
func (r *Repo) keptByRepack() map[plumbing.Hash]bool {
	leave := make(map[plumbing.Hash]bool)
	for _, p := range r.small {
		if !p.sum.IsZero() {
			leave[p.sum] = true
		}
	}
	r.staging.mu.Lock()
	for h := range r.staging.sums {
		leave[h] = true
	}
	r.staging.mu.Unlock()
	return leave
}

func (rp *Repacking) open(h plumbing.Hash) error {
	rel := rp.r.packPath(h)
	s := &repackSrc{sum: h, path: filepath.Join(rp.dir, "pack-"+h.String())}
	var err error
	if s.idx, err = openPackIndex(rp.r.files, rel); err != nil {
		return err
	}
	rp.srcs = append(rp.srcs, s)
	if s.pack, err = os.Open(s.path + ".pack"); err != nil {
		return err
	}
	fi, err := s.pack.Stat()
	if err != nil {
		return err
	}
	s.size, s.mtime = fi.Size(), fi.ModTime()
	rp.Stats.Before += s.size
	s.dropped = make([]uint64, (s.idx.n+63)/64)
	return nil
}

// removeOrphans removes the packs and reverse indexes in dir that have no
// index: what a crash left of a pack being deleted.
func removeOrphans(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	have := make(map[string]bool)
	for _, e := range ents {
		if base, ok := strings.CutSuffix(e.Name(), ".idx"); ok {
			have[base] = true
		}
	}
	for _, e := range ents {
		name := e.Name()
		base := strings.TrimSuffix(strings.TrimSuffix(name, ".pack"), ".rev")
		if base == name || !strings.HasPrefix(name, "pack-") || have[base] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Write writes the new pack, its index and reverse index, durably, into
// objects/pack. It reads only the files PlanRepack opened, and touches no
// state of the repository: it runs without the lock. It ends early with
// ctx's error.
func (rp *Repacking) Write(ctx context.Context) error {
	rp.ctx = ctx
	err := rp.write()
	rp.removeTemps()
	if err != nil {
		return fmt.Errorf("repack: %w", err)
	}
	return nil
}

func (rp *Repacking) write() error {
	if err := rp.dedup(); err != nil {
		return err
	}
	pack, err := rp.temp("tmp_pack_repack_")
	if err != nil {
		return err
	}
	if err := rp.copyPacks(pack); err != nil {
		return err
	}
	idx, err := rp.temp("tmp_idx_repack_")
	if err != nil {
		return err
	}
	rev, err := rp.temp("tmp_pack_repack_rev_")
	if err != nil {
		return err
	}
	if err := rp.writeIndexes(idx, rev); err != nil {
		return err
	}
	files := []*os.File{pack, idx, rev}
	errs := make(chan error, len(files))
	for _, f := range files {
		go func() { errs <- errors.Join(f.Chmod(0o444), f.Sync()) }()
	}
	for range files {
		if e := <-errs; err == nil {
			err = e
		}
	}
	if err != nil {
		return err
	}
	base := filepath.Join(rp.dir, "pack-"+rp.sum.String())
	if _, err := os.Stat(base + ".idx"); err == nil {
		return fsyncPath(rp.dir) // that very pack is there (a repack of what was repacked)
	}
	// The index last: a pack is read once it has one.
	for i, ext := range []string{".rev", ".pack", ".idx"} {
		if err := os.Rename(files[[]int{2, 0, 1}[i]].Name(), base+ext); err != nil {
			return err
		}
	}
	return fsyncPath(rp.dir)
}

// temp creates a temporary file in objects/pack, removed by Write (and,
// after a crash, by Open).
func (rp *Repacking) temp(prefix string) (*os.File, error) {
	f, err := os.CreateTemp(rp.dir, prefix)
	if err != nil {
		return nil, err
	}
	rp.temps = append(rp.temps, f)
	return f, nil
}

// dedup marks the copies of objects that an earlier pack holds, and
// counts the objects of the new pack.
func (rp *Repacking) dedup() error {
	return eachName(rp.srcs, func(h plumbing.Hash, at []nameAt) error {
		for _, a := range at[1:] {
			rp.srcs[a.src].dropped[a.pos/64] |= 1 << (a.pos % 64)
			rp.Stats.Dropped++
		}
		rp.fan[h[0]]++
		rp.Stats.Objects++
		if rp.Stats.Objects%(1<<16) == 0 {
			return rp.ctx.Err()
		}
		return nil
	})
}

// nameAt is a position in the index of a pack.
type nameAt struct {
	src int
	pos int64
}

// nameHead reads the names of one index in order.
type nameHead struct {
	src    int
	pos, n int64
	h      plumbing.Hash
	rd     *bufio.Reader
}

func (h *nameHead) next() error {
	prev := h.h
	h.pos++
	if _, err := io.ReadFull(h.rd, h.h[:]); err != nil {
		return err
	}
	if h.pos > 0 && bytes.Compare(prev[:], h.h[:]) >= 0 {
		return errBadIndex
	}
	return nil
}

// eachName calls fn for each name the indexes of srcs hold, in order,
// once, with where it is, in the order of srcs.
func eachName(srcs []*repackSrc, fn func(h plumbing.Hash, at []nameAt) error) error {
	heads := make([]*nameHead, 0, len(srcs))
	for i, s := range srcs {
		if s.idx.n == 0 {
			continue
		}
		h := &nameHead{src: i, pos: -1, n: s.idx.n,
			rd: bufio.NewReaderSize(io.NewSectionReader(s.idx.idx, idxHeader, s.idx.n*20), 16<<10)}
		if err := h.next(); err != nil {
			return err
		}
		heads = append(heads, h)
	}
	var at []nameAt
	for len(heads) > 0 {
		least := heads[0].h
		for _, h := range heads[1:] {
			if bytes.Compare(h.h[:], least[:]) < 0 {
				least = h.h
			}
		}
		at = at[:0]
		live := heads[:0]
		for _, h := range heads {
			if h.h == least {
				at = append(at, nameAt{h.src, h.pos})
				if h.pos+1 == h.n {
					continue
				}
				if err := h.next(); err != nil {
					return err
				}
			}
			live = append(live, h)
		}
		clear(heads[len(live):])
		heads = live
		if err := fn(least, at); err != nil {
			return err
		}
	}
	return nil
}

// moved is an entry of the pack being copied that was dropped (drop, its
// position in the index) or skipped (a gap, drop -2), or that changed
// size (drop -1), with the bytes the pack shrank by up to its end.
type moved struct {
	old, end int64
	shrunk   int64
	drop     int64
}

// packWriter writes the new pack, hashing it, and the CRC-32 of each
// entry.
type packWriter struct {
	w   *bufio.Writer
	sum hash.Hash
	crc uint32
	off int64
}

func (w *packWriter) Write(b []byte) (int, error) {
	w.sum.Write(b)
	w.crc = crc32.Update(w.crc, crc32.IEEETable, b)
	n, err := w.w.Write(b)
	w.off += int64(n)
	return n, err
}

// copyPacks writes the new pack to f: the objects of each pack in turn,
// each once.
func (rp *Repacking) copyPacks(f *os.File) error {
	out := &packWriter{w: bufio.NewWriterSize(f, repackBuffer), sum: sha1.New()}
	var hdr [12]byte
	copy(hdr[:], "PACK")
	binary.BigEndian.PutUint32(hdr[4:], 2)
	binary.BigEndian.PutUint32(hdr[8:], uint32(rp.Stats.Objects))
	if _, err := out.Write(hdr[:]); err != nil {
		return err
	}
	var rank uint32
	for p, s := range rp.srcs {
		var err error
		if s.newMap, err = rp.temp("tmp_pack_repack_map_"); err != nil {
			return err
		}
		if err := rp.copyPack(p, out, &rank); err != nil {
			return fmt.Errorf("pack %s: %w", s.sum, err)
		}
	}
	if rank != uint32(rp.Stats.Objects) {
		return fmt.Errorf("%d objects copied, %d counted", rank, rp.Stats.Objects)
	}
	if err := out.w.Flush(); err != nil {
		return err
	}
	copy(rp.sum[:], out.sum.Sum(nil))
	if _, err := f.Write(rp.sum[:]); err != nil {
		return err
	}
	rp.Stats.After = out.off + sha1.Size
	return nil
}

// copyPack copies the objects of pack p that are not dropped, in the
// order of their offsets.
func (rp *Repacking) copyPack(p int, out *packWriter, rank *uint32) error {
	s := rp.srcs[p]
	s.base = out.off
	order, closer, err := rankOrder(s.idx, s.path)
	if err != nil {
		return err
	}
	defer closer.Close()
	ranks := bufio.NewReaderSize(io.NewSectionReader(order, revHeader, 4*s.idx.n), 16<<10)
	in := bufio.NewReaderSize(io.NewSectionReader(s.pack, 0, s.size-sha1.Size), repackBuffer)
	if _, err := in.Discard(12); err != nil {
		return err
	}
	var moves []moved
	var shrunk int64
	cur := int64(12)
	var b4 [4]byte
	nextAt := func() (int64, int64, error) {
		if _, err := io.ReadFull(ranks, b4[:]); err != nil {
			return 0, 0, err
		}
		i := int64(binary.BigEndian.Uint32(b4[:]))
		if i >= s.idx.n {
			return 0, 0, errBadIndex
		}
		off, err := s.idx.offsetAt(i)
		return i, off, err
	}
	var i, off int64
	if s.idx.n > 0 {
		if i, off, err = nextAt(); err != nil {
			return err
		}
	}
	var rec [newRecord]byte
	var ofs [10]byte
	buf := make([]byte, 32<<10)
	for j := int64(0); j < s.idx.n; j++ {
		if j%4096 == 0 && rp.ctx.Err() != nil {
			return rp.ctx.Err()
		}
		end := s.size - sha1.Size
		var ni, noff int64
		if j+1 < s.idx.n {
			if ni, noff, err = nextAt(); err != nil {
				return err
			}
			end = noff
		}
		if off < cur || end <= off {
			return fmt.Errorf("object at %d: %w", off, errBadIndex)
		}
		if off > cur { // bytes no index entry names: dropped
			if _, err := in.Discard(int(off - cur)); err != nil {
				return err
			}
			shrunk += off - cur
			moves = append(moves, moved{old: cur, end: off, shrunk: shrunk, drop: -2})
			cur = off
		}
		n := end - off
		if s.dropped[i/64]&(1<<(i%64)) != 0 {
			if _, err := in.Discard(int(n)); err != nil {
				return err
			}
			shrunk += n
			moves = append(moves, moved{old: off, end: end, shrunk: shrunk, drop: i})
		} else {
			newOff := out.off
			out.crc = 0
			head, err := in.Peek(int(min(n, 32)))
			if err != nil {
				return err
			}
			h, dist, hl, ol, ok := entryHead(head)
			if !ok {
				return fmt.Errorf("object at %d: malformed header", off)
			}
			copied := int64(0)
			if head[0]>>4&7 == byte(plumbing.OFSDeltaObject) {
				if dist > off-12 {
					return fmt.Errorf("delta at %d: its base is before the pack", off)
				}
				baseNew, err := rp.newOffset(p, moves, off-dist)
				if err != nil {
					return fmt.Errorf("delta at %d: %w", off, err)
				}
				nofs := appendOfsDelta(ofs[:0], newOff-baseNew)
				if !bytes.Equal(nofs, head[h:h+ol]) {
					if _, err := out.Write(head[:h]); err != nil {
						return err
					}
					if _, err := out.Write(nofs); err != nil {
						return err
					}
					if _, err := in.Discard(hl); err != nil {
						return err
					}
					copied = int64(hl)
					shrunk += int64(ol - len(nofs))
					moves = append(moves, moved{old: off, end: end, shrunk: shrunk, drop: -1})
				}
			}
			if err := copyN(out, in, n-copied, buf); err != nil {
				return err
			}
			binary.BigEndian.PutUint64(rec[:8], uint64(newOff))
			binary.BigEndian.PutUint32(rec[8:12], out.crc)
			binary.BigEndian.PutUint32(rec[12:], *rank)
			if _, err := s.newMap.WriteAt(rec[:], i*newRecord); err != nil {
				return err
			}
			*rank++
		}
		cur = end
		i, off = ni, noff
	}
	return nil
}

// copyN copies n bytes from in to out through buf.
func copyN(out io.Writer, in io.Reader, n int64, buf []byte) error {
	for n > 0 {
		k, err := in.Read(buf[:min(n, int64(len(buf)))])
		if k > 0 {
			if _, werr := out.Write(buf[:k]); werr != nil {
				return werr
			}
			n -= int64(k)
		}
		if err != nil && n > 0 {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// entryHead parses the header of a pack entry: its length h up to a
// delta's base, and for an OFS_DELTA the distance back to its base and
// the length ol of its encoding; hl is h+ol.
func entryHead(b []byte) (h int, dist int64, hl, ol int, ok bool) {
	for h = 0; h < len(b) && b[h]&0x80 != 0; h++ {
	}
	h++
	if h > len(b) || h > 10 {
		return 0, 0, 0, 0, false
	}
	if b[0]>>4&7 != byte(plumbing.OFSDeltaObject) {
		return h, 0, h, 0, true
	}
	i := h
	if i >= len(b) {
		return 0, 0, 0, 0, false
	}
	c := b[i]
	dist = int64(c & 0x7f)
	for c&0x80 != 0 {
		i++
		if i >= len(b) || i-h >= 9 {
			return 0, 0, 0, 0, false
		}
		c = b[i]
		dist = (dist+1)<<7 | int64(c&0x7f)
	}
	ol = i + 1 - h
	return h, dist, h + ol, ol, dist > 0
}

// newOffset returns where the object at old in pack p goes in the new
// pack: it comes before the object being copied. moves is what moved so
// far in p.
func (rp *Repacking) newOffset(p int, moves []moved, old int64) (int64, error) {
	s := rp.srcs[p]
	if old < 12 {
		return 0, errBadIndex
	}
	k := sort.Search(len(moves), func(k int) bool { return moves[k].old >= old })
	if k > 0 && moves[k-1].drop != -1 && old < moves[k-1].end {
		return 0, errBadIndex // inside what was dropped or skipped
	}
	if k < len(moves) && moves[k].old == old {
		switch m := moves[k]; {
		case m.drop == -2:
			return 0, errBadIndex
		case m.drop >= 0:
			h, err := s.idx.hashAt(m.drop)
			if err != nil {
				return 0, err
			}
			rp.Stats.Rebased++
			return rp.kept(p, h)
		}
	}
	var shrunk int64
	if k > 0 {
		shrunk = moves[k-1].shrunk
	}
	return s.base + old - 12 - shrunk, nil
}

// kept returns where the copy of h that a pack before p holds went.
func (rp *Repacking) kept(p int, h plumbing.Hash) (int64, error) {
	for _, q := range rp.srcs[:p] {
		pos, ok, err := q.idx.find(h)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		var b [8]byte
		if _, err := q.newMap.ReadAt(b[:], pos*newRecord); err != nil {
			return 0, err
		}
		return int64(binary.BigEndian.Uint64(b[:])), nil
	}
	return 0, fmt.Errorf("base %s: %w", h, ErrMissingBase)
}

// rankOrder returns the reverse index of the pack at path: its .rev,
// read where it lies, when it is sound; else one built in memory.
func rankOrder(x *packIndex, path string) (io.ReaderAt, io.Closer, error) {
	if f, err := os.Open(path + ".rev"); err == nil {
		fi, err := f.Stat()
		var h [revHeader]byte
		var sum plumbing.Hash
		size := int64(revHeader + 4*x.n + 2*sha1.Size)
		if err == nil && fi.Size() == size {
			_, err = f.ReadAt(h[:], 0)
			if err == nil {
				_, err = f.ReadAt(sum[:], size-2*sha1.Size)
			}
			if err == nil && bytes.Equal(h[:], revMagic()) && sum == x.sum {
				return f, f, nil
			}
		}
		f.Close()
	}
	return bytes.NewReader(x.buildRev()), io.NopCloser(nil), nil
}

// writeIndexes writes the index and the reverse index of the new pack to
// idx and rev: the merge of the indexes again, each name taken from the
// pack that kept it.
func (rp *Repacking) writeIndexes(idx, rev *os.File) error {
	n := rp.Stats.Objects
	var b [8]byte
	head := []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}
	var total uint32
	for _, c := range rp.fan {
		total += c
		head = binary.BigEndian.AppendUint32(head, total)
	}
	if _, err := idx.WriteAt(head, 0); err != nil {
		return err
	}
	names := bufio.NewWriterSize(io.NewOffsetWriter(idx, idxHeader), repackBuffer)
	crcs := bufio.NewWriterSize(io.NewOffsetWriter(idx, idxHeader+20*n), repackBuffer)
	offs := bufio.NewWriterSize(io.NewOffsetWriter(idx, idxHeader+24*n), repackBuffer)
	if _, err := rev.WriteAt(revMagic(), 0); err != nil {
		return err
	}
	maps := make([]*bufio.Reader, len(rp.srcs))
	at := make([]int64, len(rp.srcs))
	for i, s := range rp.srcs {
		maps[i] = bufio.NewReaderSize(io.NewSectionReader(s.newMap, 0, s.idx.n*newRecord), 16<<10)
	}
	var large []int64
	var k uint32
	var rec [newRecord]byte
	err := eachName(rp.srcs, func(h plumbing.Hash, where []nameAt) error {
		w := where[0]
		if _, err := maps[w.src].Discard(int((w.pos - at[w.src]) * newRecord)); err != nil {
			return err
		}
		if _, err := io.ReadFull(maps[w.src], rec[:]); err != nil {
			return err
		}
		at[w.src] = w.pos + 1
		names.Write(h[:])
		crcs.Write(rec[8:12])
		if off := binary.BigEndian.Uint64(rec[:8]); off > 0x7fffffff {
			offs.Write(binary.BigEndian.AppendUint32(b[:0], 0x80000000|uint32(len(large))))
			large = append(large, int64(off))
		} else {
			offs.Write(rec[4:8])
		}
		pos := int64(binary.BigEndian.Uint32(rec[12:]))
		if _, err := rev.WriteAt(binary.BigEndian.AppendUint32(b[:0], k), revHeader+4*pos); err != nil {
			return err
		}
		k++
		if k%(1<<16) == 0 {
			return rp.ctx.Err()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if int64(k) != n {
		return fmt.Errorf("%d objects indexed, %d counted", k, n)
	}
	for _, w := range []*bufio.Writer{names, crcs, offs} {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	tail := make([]byte, 0, 8*len(large)+sha1.Size)
	for _, off := range large {
		tail = binary.BigEndian.AppendUint64(tail, uint64(off))
	}
	tail = append(tail, rp.sum[:]...)
	if _, err := idx.WriteAt(tail, idxHeader+28*n); err != nil {
		return err
	}
	if err := appendSum(idx, idxHeader+28*n+int64(len(tail))); err != nil {
		return err
	}
	if _, err := rev.WriteAt(rp.sum[:], revHeader+4*n); err != nil {
		return err
	}
	return appendSum(rev, revHeader+4*n+sha1.Size)
}

// appendSum writes the SHA-1 of the first size bytes of f after them.
func appendSum(f *os.File, size int64) error {
	h := sha1.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(io.NewSectionReader(f, 0, size), repackBuffer)); err != nil {
		return err
	}
	_, err := f.WriteAt(h.Sum(nil), size)
	return err
}

// Finish reads the new pack from here on and takes the packs it holds
// out of the repository (their indexes renamed away; Sync deletes them):
// not those that got into a merge or a stage meanwhile, which the merge
// deletes. It follows a Write that succeeded.
func (rp *Repacking) Finish() error {
	r := rp.r
	leave := r.keptByRepack()
	leave[rp.sum] = true
	rp.closeSrcs()
	if err := r.batch.closePacks(); err != nil {
		return fmt.Errorf("repack: %w", err)
	}
	for _, s := range rp.srcs {
		if leave[s.sum] {
			continue
		}
		// A pack without its index is not read; a crash leaves the
		// index's temporary name to Open and the pack to the next
		// repack (removeOrphans).
		gone := filepath.Join(rp.dir, "tmp_idx_repack_old_"+s.sum.String())
		if err := os.Rename(s.path+".idx", gone); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("repack: %w", err)
		}
		rp.gone = append(rp.gone, s)
	}
	return nil
}

// Sync deletes the packs Finish took out, and makes that durable; it
// runs without the lock (deleting large files takes a while). Until
// then a crash may bring old packs back: copies, which read the same.
func (rp *Repacking) Sync() error {
	for _, s := range rp.gone {
		for _, name := range []string{filepath.Join(rp.dir, "tmp_idx_repack_old_"+s.sum.String()), s.path + ".rev", s.path + ".pack"} {
			if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("repack: %w", err)
			}
		}
	}
	rp.gone = nil
	return fsyncPath(rp.dir)
}

// Discard gives up a repack that is not finished: its temporary files and
// the packs it opened are closed.
func (rp *Repacking) Discard() {
	rp.removeTemps()
	rp.closeSrcs()
}

func (rp *Repacking) closeSrcs() {
	for _, s := range rp.srcs {
		s.close()
	}
}

func (s *repackSrc) close() {
	if s.idx != nil {
		s.idx.Close()
	}
	if s.pack != nil {
		s.pack.Close()
	}
	if s.newMap != nil {
		s.newMap.Close()
	}
}

func (rp *Repacking) removeTemps() {
	for _, f := range rp.temps {
		f.Close()
		_ = os.Remove(f.Name()) // gone once renamed
	}
	rp.temps = nil
}
