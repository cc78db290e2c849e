package repo

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
)

// The copy of a repack: each pack in turn, its objects as stored.

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
	if rp.trees != nil {
		if err := rp.trees.plan(rp, rp.srcs[0]); err != nil {
			return err
		}
		// The plan's lists (9 bytes a tree) are gone: not held while
		// the copy's table and list of what moved grow.
		runtime.GC()
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

// moved is an entry of the pack being copied that was dropped (drop, its
// position in the index) or skipped (a gap, drop -2), or that changed
// size (drop -1), with the bytes the pack shrank by up to its end.
type moved struct {
	old, end int64
	shrunk   int64
	drop     int64
}

// movedList is a list of moved in chunks: a rewrite of trees resizes
// hundreds of thousands of entries, and a slice would be copied, and
// held twice, as it doubles. In a rewrite of one pack under 4 GiB
// (small), where nothing is dropped and entries only shrink, each is
// kept in 16 bytes instead of 32.
type movedList struct {
	chunks  [][]moved
	small   [][]movedSmall
	n       int
	compact bool
	err     error // a moved the compact form cannot hold
}

// movedSmall is a moved of a pack under 4 GiB, drop -1 or -2.
type movedSmall struct {
	old, end, shrunk uint32
	drop             int32
}

const movedChunk = 4096

func (l *movedList) add(m moved) {
	if l.compact {
		if m.old > math.MaxUint32 || m.end > math.MaxUint32 || m.shrunk < 0 || m.shrunk > math.MaxUint32 || m.drop >= 0 {
			l.err = fmt.Errorf("entry at %d: moved %+v in a rewrite of trees", m.old, m)
		}
		if l.n%movedChunk == 0 {
			l.small = append(l.small, make([]movedSmall, 0, movedChunk))
		}
		c := &l.small[len(l.small)-1]
		*c = append(*c, movedSmall{uint32(m.old), uint32(m.end), uint32(m.shrunk), int32(m.drop)})
	} else {
		if l.n%movedChunk == 0 {
			l.chunks = append(l.chunks, make([]moved, 0, movedChunk))
		}
		c := &l.chunks[len(l.chunks)-1]
		*c = append(*c, m)
	}
	l.n++
}

func (l *movedList) at(k int) moved {
	if l.compact {
		m := l.small[k/movedChunk][k%movedChunk]
		return moved{old: int64(m.old), end: int64(m.end), shrunk: int64(m.shrunk), drop: int64(m.drop)}
	}
	return l.chunks[k/movedChunk][k%movedChunk]
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
	// A rewrite of trees: one pack under 4 GiB (PlanTreeDeltas), no
	// copy dropped (dedup of one pack), entries that only shrink.
	moves := movedList{compact: rp.trees != nil}
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
			moves.add(moved{old: cur, end: off, shrunk: shrunk, drop: -2})
			cur = off
		}
		n := end - off
		if s.dropped[i/64]&(1<<(i%64)) != 0 {
			if _, err := in.Discard(int(n)); err != nil {
				return err
			}
			shrunk += n
			moves.add(moved{old: off, end: end, shrunk: shrunk, drop: i})
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
			typ := plumbing.ObjectType(head[0] >> 4 & 7) // head goes with the Discard below
			if rp.trees != nil && typ == plumbing.TreeObject {
				stored, err := in.Peek(int(n))
				if err != nil { // larger than the buffer
					stored = make([]byte, n)
					_, err = s.pack.ReadAt(stored, off)
				}
				if err != nil {
					return err
				}
				k, err := rp.trees.deltify(rp, out, s, off, stored)
				if err != nil {
					return err
				}
				if k > 0 { // written as a delta
					copied = n
					if _, err := in.Discard(int(n)); err != nil {
						return err
					}
					shrunk += n - k
					moves.add(moved{old: off, end: end, shrunk: shrunk, drop: -1})
				}
			}
			if typ == plumbing.OFSDeltaObject {
				if dist > off-12 {
					return fmt.Errorf("delta at %d: its base is before the pack", off)
				}
				baseNew, err := rp.newOffset(p, &moves, off-dist)
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
					if ol != len(nofs) { // what follows moves
						shrunk += int64(ol - len(nofs))
						moves.add(moved{old: off, end: end, shrunk: shrunk, drop: -1})
					}
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
	return moves.err
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
func (rp *Repacking) newOffset(p int, moves *movedList, old int64) (int64, error) {
	s := rp.srcs[p]
	if old < 12 {
		return 0, errBadIndex
	}
	k := sort.Search(moves.n, func(k int) bool { return moves.at(k).old >= old })
	if k > 0 && moves.at(k-1).drop != -1 && old < moves.at(k-1).end {
		return 0, errBadIndex // inside what was dropped or skipped
	}
	if k < moves.n && moves.at(k).old == old {
		switch m := moves.at(k); {
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
		shrunk = moves.at(k - 1).shrunk
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
