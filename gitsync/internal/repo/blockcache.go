package repo

import (
	"errors"
	"io"
	"sync"
)

// Packs and large pack indexes are read in blocks of blockSize bytes, kept
// in a blockCache of at most cachedBlocks blocks (1 MiB) shared by every
// file of a packSet. A tree at a million pastes is the end of a chain of
// deltas, each a few hundred bytes somewhere in the pack, and the binary
// search of an index reads 20 bytes at a time: read one pread each (and
// go-git's reader, a seek and a 4 KiB read each), that was 27% of the CPU
// of creates in syscalls. The blocks' memory is allocated once and reused;
// readers get copies.

const (
	blockSize    = 4 << 10
	cachedBlocks = 256
)

// blockKey names a block: the file (a number per opened file, never
// reused) and the block's number in it.
type blockKey struct {
	file  uint64
	block int64
}

// blockCache holds up to cachedBlocks blocks, evicted by the clock
// algorithm (a block read since the hand last passed gets another turn).
type blockCache struct {
	mu     sync.Mutex
	files  uint64 // numbers given
	slots  [cachedBlocks]cacheSlot
	at     map[blockKey]int // slot of each block held
	hand   int
	loaded int // slots ever filled
}

type cacheSlot struct {
	key  blockKey
	data []byte
	used bool
}

func newBlockCache() *blockCache {
	return &blockCache{at: make(map[blockKey]int, cachedBlocks)}
}

// file returns f read through the cache.
func (c *blockCache) file(f io.ReaderAt) *cachedFile {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files++
	return &cachedFile{f: f, c: c, id: c.files}
}

// copyAt copies to p what block b of f holds from byte i of the block on,
// reading the block when it is not held, and returns how many bytes it
// copied: fewer than len(p) at the end of the block, 0 at the end of the
// file.
func (c *blockCache) copyAt(p []byte, f *cachedFile, b int64, i int) (int, error) {
	key := blockKey{f.id, b}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.at[key]
	if !ok {
		if c.loaded < cachedBlocks {
			s = c.loaded
			c.loaded++
			c.slots[s].data = make([]byte, blockSize)
		} else {
			for c.slots[c.hand].used {
				c.slots[c.hand].used = false
				c.hand = (c.hand + 1) % cachedBlocks
			}
			s = c.hand
			c.hand = (c.hand + 1) % cachedBlocks
			delete(c.at, c.slots[s].key)
		}
		data := c.slots[s].data[:blockSize]
		n, err := f.f.ReadAt(data, b*blockSize)
		if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
			// The slot holds nothing (no file is numbered 0).
			c.slots[s] = cacheSlot{key: blockKey{block: -1}, data: data}
			return 0, err
		}
		c.slots[s] = cacheSlot{key: key, data: data[:n]}
		c.at[key] = s
	}
	c.slots[s].used = true
	data := c.slots[s].data
	if i >= len(data) {
		return 0, nil
	}
	return copy(p, data[i:]), nil
}

// drop gives the blocks' memory back; the next reads allocate it again.
func (c *blockCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.at)
	c.slots = [cachedBlocks]cacheSlot{}
	c.hand, c.loaded = 0, 0
}

// cachedFile is a file read through a blockCache. The file must not change
// while it is read (packs and their indexes never do: they are named by
// their contents).
type cachedFile struct {
	f  io.ReaderAt
	c  *blockCache
	id uint64
}

// ReadAt implements io.ReaderAt.
func (f *cachedFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		k, err := f.c.copyAt(p[n:], f, at/blockSize, int(at%blockSize))
		if err != nil {
			return n, err
		}
		if k == 0 {
			return n, io.EOF
		}
		n += k
	}
	return n, nil
}

// fileStream reads a cachedFile from an offset on, a block at a time
// copied into its buffer. It is an io.ByteReader: zlib reads it as it is,
// with no buffer of its own.
type fileStream struct {
	f    *cachedFile
	off  int64  // of the next byte not in buf
	buf  []byte // what is left of the bytes copied
	data [blockSize]byte
}

// reset makes s read f from off on.
func (s *fileStream) reset(f *cachedFile, off int64) {
	s.f, s.off, s.buf = f, off, nil
}

func (s *fileStream) fill() error {
	if len(s.buf) > 0 {
		return nil
	}
	if s.off < 0 {
		return errors.New("negative offset")
	}
	n, err := s.f.c.copyAt(s.data[:], s.f, s.off/blockSize, int(s.off%blockSize))
	if err != nil {
		return err
	}
	if n == 0 {
		return io.EOF
	}
	s.buf, s.off = s.data[:n], s.off+int64(n)
	return nil
}

// Read implements io.Reader.
func (s *fileStream) Read(p []byte) (int, error) {
	if err := s.fill(); err != nil {
		return 0, err
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// ReadByte implements io.ByteReader.
func (s *fileStream) ReadByte() (byte, error) {
	if err := s.fill(); err != nil {
		return 0, err
	}
	b := s.buf[0]
	s.buf = s.buf[1:]
	return b, nil
}
