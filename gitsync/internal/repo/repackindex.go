package repo

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/go-git/go-git/v5/plumbing"
)

// The names of a repack: a merge of the packs' indexes, sorted by name,
// finds the copies to drop and writes the new index and reverse index.

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
