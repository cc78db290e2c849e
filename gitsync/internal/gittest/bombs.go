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
// whose size bytes are read from data.
func (p *pack) object(typ byte, size int64, base []byte, data io.Reader) {
	p.n++
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
}

// bytes returns the pack, with its header and checksum.
func (p *pack) bytes() []byte {
	out := []byte("PACK\x00\x00\x00\x02")
	out = binary.BigEndian.AppendUint32(out, p.n)
	out = append(out, p.body.Bytes()...)
	sum := sha1.Sum(out)
	return append(out, sum[:]...)
}
