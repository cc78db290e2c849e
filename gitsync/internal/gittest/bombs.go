package gittest

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"io"
)

// Packs a hostile remote sends: a few bytes that describe gigabytes.

// DeltaBomb returns a pack of 175 bytes: a blob of 64 KiB of zeros and a
// delta on it of 16,384 copies of the whole blob, which builds 1 GiB.
func DeltaBomb() []byte {
	base := make([]byte, 64<<10)
	var delta []byte
	delta = binary.AppendUvarint(delta, uint64(len(base)))
	delta = binary.AppendUvarint(delta, 16384*uint64(len(base)))
	// 0x80: copy with no offset or size bytes, which is offset 0, size
	// 0x10000.
	delta = append(delta, bytes.Repeat([]byte{0x80}, 16384)...)
	var p pack
	p.object(3, int64(len(base)), nil, bytes.NewReader(base))
	// An offset delta on the object before: its distance back, which is
	// below 128, in one byte.
	dist := byte(p.body.Len())
	p.object(6, int64(len(delta)), []byte{dist}, bytes.NewReader(delta))
	return p.bytes()
}

// ZeroBomb returns a pack holding one blob of n zero bytes (1 GiB of
// zeros compresses to about 1 MB).
func ZeroBomb(n int64) []byte {
	var p pack
	p.object(3, n, nil, io.LimitReader(zeros{}, n))
	return p.bytes()
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// pack assembles a version 2 packfile.
type pack struct {
	n    uint32
	body bytes.Buffer
}

// object adds an object of type typ (3 blob, 6 offset delta whose encoded
// distance to its base is base)
// whose size bytes are read from data, and returns where it begins in
// body.
func (p *pack) object(typ byte, size int64, base []byte, data io.Reader) int64 {
	p.n++
	start := int64(p.body.Len())
	b := typ<<4 | byte(size&0x0f)
	size >>= 4
	for size > 0 {
		p.body.WriteByte(b | 0x80)
		b = byte(size & 0x7f)
		size >>= 7
	}
	p.body.WriteByte(b)
	p.body.Write(base)
	z, _ := zlib.NewWriterLevel(&p.body, zlib.BestCompression)
	io.Copy(z, data)
	z.Close()
	return start
}

// bytes returns the pack, with its header and checksum.
func (p *pack) bytes() []byte {
	out := []byte("PACK\x00\x00\x00\x02")
	out = binary.BigEndian.AppendUint32(out, p.n)
	out = append(out, p.body.Bytes()...)
	sum := sha1.Sum(out)
	return append(out, sum[:]...)
}

// ChainBomb returns a pack of a blob of size zeros and a binary tree of
// depth levels of offset deltas on it, each delta copying all of its
// base: every object is size bytes, and resolving the tree holds a base at
// every level above the delta being built.
func ChainBomb(size int64, depth int) []byte {
	var delta []byte
	delta = binary.AppendUvarint(delta, uint64(size))
	delta = binary.AppendUvarint(delta, uint64(size))
	for off := int64(0); off < size; {
		n := min(size-off, 0x10000)
		// Copy n bytes from off: four offset bytes, two size bytes.
		delta = append(delta, 0x80|0x0f|0x30,
			byte(off), byte(off>>8), byte(off>>16), byte(off>>24), byte(n), byte(n>>8))
		off += n
	}
	var p pack
	level := []int64{p.object(3, size, nil, io.LimitReader(zeros{}, size))}
	for range depth {
		var next []int64
		for _, base := range level {
			next = append(next, p.offsetDelta(base, delta), p.offsetDelta(base, delta))
		}
		level = next
	}
	return p.bytes()
}

// offsetDelta adds an offset delta on the object at base (in body), and
// returns where it begins.
func (p *pack) offsetDelta(base int64, delta []byte) int64 {
	dist := int64(p.body.Len()) - base
	var ofs []byte
	// git's offset encoding: big-endian base-128, each continuation
	// byte's value one less.
	ofs = append(ofs, byte(dist&0x7f))
	for dist >>= 7; dist > 0; dist >>= 7 {
		dist--
		ofs = append([]byte{0x80 | byte(dist&0x7f)}, ofs...)
	}
	return p.object(6, int64(len(delta)), ofs, bytes.NewReader(delta))
}
