package repo

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// packOut writes a packfile of whole objects as they come, each once, to
// a temporary file in objects/ (out of go-git's sight; Open removes one a
// crash left) or, for a repository in memory, to memory. Only the
// objects' hashes, offsets and checksums stay in memory: a purge of
// 100,000 commits makes 330,000 objects, 240 MB of them. The header's
// count is written last, so finish reads the file once more for the
// pack's checksum.
type packOut struct {
	dir  string // objects; "" in memory
	f    *os.File
	w    *bufio.Writer
	mem  bytes.Buffer
	off  int64
	objs []packObj
	seen map[plumbing.Hash]struct{}
	enc  entryEncoder
}

// newPackOut starts a pack in dir ("" in memory).
func newPackOut(dir string) (*packOut, error) {
	p := &packOut{dir: dir, seen: make(map[plumbing.Hash]struct{})}
	var w io.Writer = &p.mem
	if dir != "" {
		f, err := os.CreateTemp(dir, "tmp_pack_")
		if err != nil {
			return nil, fmt.Errorf("purge pack: %w", err)
		}
		p.f, p.w = f, bufio.NewWriterSize(f, 64<<10)
		w = p.w
	}
	// The count is zero until finish.
	if _, err := w.Write([]byte{'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0}); err != nil {
		p.discard()
		return nil, fmt.Errorf("purge pack: %w", err)
	}
	p.off = 12
	return p, nil
}

// add appends object o, unless the pack has it already.
func (p *packOut) add(o plumbing.EncodedObject) error {
	h := o.Hash()
	if _, ok := p.seen[h]; ok {
		return nil
	}
	e, err := p.enc.encode(o)
	if err != nil {
		return err
	}
	if p.w != nil {
		_, err = p.w.Write(e.data)
	} else {
		_, err = p.mem.Write(e.data)
	}
	if err != nil {
		return fmt.Errorf("purge pack: %w", err)
	}
	p.seen[h] = struct{}{}
	p.objs = append(p.objs, packObj{off: p.off, hash: h, crc: crc32.ChecksumIEEE(e.data)})
	p.off += int64(len(e.data))
	return nil
}

// finish completes the pack, writes its index, fsyncs the two, and
// returns them as a Received: the owner of the repository adds it (Add),
// or discards it. It reads the pack back, not the repository.
func (p *packOut) finish() (*Received, error) {
	clear(p.seen)
	var count [4]byte
	binary.BigEndian.PutUint32(count[:], uint32(len(p.objs)))
	objs := slices.SortedFunc(slices.Values(p.objs), byHash)
	if p.f == nil {
		b := p.mem.Bytes()
		copy(b[8:12], count[:])
		sum := sha1.Sum(b)
		b = append(b, sum[:]...)
		var idx bytes.Buffer
		if err := writeIdx(&idx, objs, plumbing.Hash(sum)); err != nil {
			return nil, err
		}
		return &Received{mem: b, memIdx: idx.Bytes(), sum: plumbing.Hash(sum), size: int64(len(b)), objs: objs}, nil
	}
	in, err := p.finishFile(count, objs)
	if err != nil {
		p.discard()
		return nil, fmt.Errorf("purge pack: %w", err)
	}
	return in, nil
}

// finishFile is finish for a pack in a file.
func (p *packOut) finishFile(count [4]byte, objs []packObj) (*Received, error) {
	if err := p.w.Flush(); err != nil {
		return nil, err
	}
	if _, err := p.f.WriteAt(count[:], 8); err != nil {
		return nil, err
	}
	if _, err := p.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	h := sha1.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(p.f, 64<<10)); err != nil {
		return nil, err
	}
	sum := plumbing.Hash(h.Sum(nil))
	if _, err := p.f.Write(sum[:]); err != nil {
		return nil, err
	}
	in := &Received{dir: p.dir, pack: p.f.Name(), sum: sum, size: p.off + sha1.Size, objs: objs}
	x, err := os.CreateTemp(p.dir, "tmp_idx_")
	if err != nil {
		return nil, err
	}
	defer x.Close()
	in.idx = x.Name()
	w := bufio.NewWriterSize(x, 64<<10)
	err = writeIdx(w, objs, sum)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = errors.Join(x.Chmod(0o444), p.f.Chmod(0o444)) // as git's packs
	}
	if err != nil {
		_ = os.Remove(in.idx)
		return nil, err
	}
	packErr := make(chan error, 1)
	go func() { packErr <- p.f.Sync() }()
	if err := errors.Join(x.Sync(), <-packErr, p.f.Close()); err != nil {
		_ = os.Remove(in.idx)
		return nil, err
	}
	p.f = nil // the Received owns the file now
	return in, nil
}

// discard removes the pack's file, unless finish handed it over.
func (p *packOut) discard() {
	if p.f != nil {
		_ = p.f.Close()
		_ = os.Remove(p.f.Name())
		p.f = nil
	}
	p.mem = bytes.Buffer{}
}
