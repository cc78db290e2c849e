package repo

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
)

// The packfiles pasteur writes hold whole objects (the packs it pushes
// hold deltas too, thin.go), and most
// are stored in their zlib streams without compression: pasteur's objects
// are small (a paste's JSON, trees whose 20-byte hashes do not compress),
// deflate at its default level cost 3.3 ms for a group of 64 pastes' 160
// objects and saved 11% of the bytes. Objects over storeMax are deflated
// at the fastest level. An entry, once encoded, is kept as bytes: merging
// packs and pushing a group's pack copy them without encoding again.

const storeMax = 4 << 10

// packEntry is an object as a packfile entry: its type and size header
// followed by its contents as a zlib stream.
type packEntry struct {
	hash plumbing.Hash
	data []byte
}

// entryEncoder encodes objects as packEntries, reusing its zlib writer
// for the objects it deflates; it writes the stored streams itself (zlib's
// writer at NoCompression allocates and clears a compressor's state,
// hundreds of KiB, for what is a copy).
type entryEncoder struct {
	deflate *zlib.Writer
}

func (e *entryEncoder) encode(o plumbing.EncodedObject) (packEntry, error) {
	var buf bytes.Buffer
	if err := e.encodeTo(&buf, o); err != nil {
		return packEntry{}, err
	}
	return packEntry{hash: o.Hash(), data: buf.Bytes()}, nil
}

// encodeTo appends the packfile entry of object o to buf.
func (e *entryEncoder) encodeTo(buf *bytes.Buffer, o plumbing.EncodedObject) error {
	rd, err := o.Reader()
	if err != nil {
		return err
	}
	err = e.entryTo(buf, o.Hash(), o.Type(), nil, rd, o.Size())
	if cerr := rd.Close(); err == nil {
		err = cerr
	}
	return err
}

// entry encodes the size bytes of rd as the packfile entry of object h,
// of type typ, with prefix (a delta's base) between header and stream.
func (e *entryEncoder) entry(h plumbing.Hash, typ plumbing.ObjectType, prefix []byte, rd io.Reader, size int64) (packEntry, error) {
	var buf bytes.Buffer
	if err := e.entryTo(&buf, h, typ, prefix, rd, size); err != nil {
		return packEntry{}, err
	}
	return packEntry{hash: h, data: buf.Bytes()}, nil
}

// entryTo is entry, appending the entry to buf.
func (e *entryEncoder) entryTo(buf *bytes.Buffer, h plumbing.Hash, typ plumbing.ObjectType, prefix []byte, rd io.Reader, size int64) error {
	if size <= storeMax {
		buf.Grow(maxEntryHeader + len(prefix) + storedSize(size)) // one allocation
	}
	c := byte(typ)<<4 | byte(size&0x0f)
	for s := size >> 4; s > 0; s >>= 7 {
		buf.WriteByte(c | 0x80)
		c = byte(s & 0x7f)
	}
	buf.WriteByte(c)
	buf.Write(prefix)

	var err error
	if size <= storeMax {
		err = writeStored(buf, rd, size)
	} else {
		if e.deflate == nil {
			e.deflate, err = zlib.NewWriterLevel(io.Discard, zlib.BestSpeed)
		}
		if err == nil {
			e.deflate.Reset(buf)
			_, err = io.Copy(e.deflate, rd)
			if cerr := e.deflate.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		return fmt.Errorf("encode object %s: %w", h, err)
	}
	return nil
}

// maxEntryHeader is the longest type and size header of an entry.
const maxEntryHeader = 10

// writeStored writes the size bytes of rd to buf as a zlib stream of stored
// (uncompressed) deflate blocks, as zlib's writer at NoCompression does
// (RFC 1950 and RFC 1951 section 3.2.4).
func writeStored(buf *bytes.Buffer, rd io.Reader, size int64) error {
	buf.Grow(storedSize(size))
	buf.Write([]byte{0x78, 0x01}) // deflate, 32 KiB window, no dictionary, fastest
	sum := adler32.New()
	left := size
	for {
		n := min(left, 0xffff)
		final := byte(0)
		if n == left {
			final = 1
		}
		buf.Write([]byte{final, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)})
		// Read into buf's room, grown above, which the Write moves onto
		// itself: through a MultiWriter, io.CopyN allocated a buffer of
		// the object's size.
		room := buf.AvailableBuffer()[:n]
		if _, err := io.ReadFull(rd, room); err != nil {
			return err
		}
		sum.Write(room)
		buf.Write(room)
		left -= n
		if final == 1 {
			break
		}
	}
	buf.Write(sum.Sum(nil))
	return nil
}

// storedSize is the length of writeStored's stream of size bytes.
func storedSize(size int64) int { return int(size) + 2 + 5*(int(size)/0xffff+1) + 4 }

// assemblePack returns the packfile of entries, each object once, in the
// order given, and its objects as the index describes them.
func assemblePack(entries []packEntry) ([]byte, []packObj) {
	seen := make(map[plumbing.Hash]bool, len(entries))
	size := 12 + sha1.Size
	for _, e := range entries {
		if !seen[e.hash] {
			seen[e.hash] = true
			size += len(e.data)
		}
	}
	pack := make([]byte, 0, size)
	pack = append(pack, "PACK"...)
	pack = binary.BigEndian.AppendUint32(pack, 2)
	pack = binary.BigEndian.AppendUint32(pack, uint32(len(seen)))
	objs := make([]packObj, 0, len(seen))
	clear(seen)
	for _, e := range entries {
		if !seen[e.hash] {
			seen[e.hash] = true
			objs = append(objs, packObj{off: int64(len(pack)), hash: e.hash, crc: crc32.ChecksumIEEE(e.data)})
			pack = append(pack, e.data...)
		}
	}
	sum := sha1.Sum(pack)
	return append(pack, sum[:]...), objs
}
