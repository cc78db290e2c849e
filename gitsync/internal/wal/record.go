// Package wal is the write-ahead log of pastes (docs/FORMAT.md, "The
// write-ahead log"): the records gitsync appends and fdatasyncs before it
// answers a Create, and commits to the branch behind it.
//
// A file of the log is a header and records:
//
//	header   "PWAL", the file's generation (uint64, big endian), and
//	         CRC-32C (Castagnoli) of those 12 bytes (uint32, big endian)
//	record   length   uint32, big endian: the payload's length (2 or more)
//	         checksum uint32, big endian: CRC-32C of the generation's 8
//	                  bytes followed by the payload
//	         payload  kind (1 byte, 'P': a paste), id length (1 byte), id,
//	                  the paste's stored document (paste.Marshal)
//	end      8 zero bytes (a length of 0)
//
// The records follow the header up to the end. A file is emptied by a new
// header, of the next generation, followed by the end, written over what
// it held: the file keeps its blocks and its length, so that an append and
// its fdatasync write only the appended bytes, never the file's metadata
// (an append to a file truncated to zero paid two more writes: the blocks
// allocated, the length). What follows the end is an earlier generation's,
// committed, whose checksums do not hold for this one. A torn or corrupt
// record (short, a length out of bounds, a checksum that does not match,
// an unknown kind) ends the file too: it and whatever follows are dropped.
//
// A file without the header (written before it: records checksummed over
// the payload alone, from offset 0 to the file's end, no end record) is
// read as it is, and emptied into the header's form.
package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Record is one paste of the log.
type Record struct {
	ID  string
	Doc []byte // paste.Marshal's document
}

// MaxPayload is the largest payload a log may hold: a bound on what a
// corrupt length makes the parser believe, far above any paste.
const MaxPayload = 1 << 30

const (
	headerSize     = 8 // a record's
	fileHeaderSize = 16
	kindPaste      = 'P'
)

// endRecord ends the records of a file with a header.
var endRecord = [headerSize]byte{}

// magic begins a file with a header. As the length of a record in a file
// without one, it is beyond MaxPayload: no such file begins with it.
var magic = [4]byte{'P', 'W', 'A', 'L'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrTorn is wrapped by Parse's error when the log ends in a record that
// is incomplete or corrupt.
var ErrTorn = errors.New("wal: torn or corrupt record")

// Append appends rec's encoding as a file without a header holds it (the
// log as pasteur wrote it before the header).
func Append(b []byte, rec Record) []byte { return appendRecord(b, 0, false, rec) }

// AppendHeader appends the header of a file of generation gen.
func AppendHeader(b []byte, gen uint64) []byte {
	start := len(b)
	b = append(b, magic[:]...)
	b = binary.BigEndian.AppendUint64(b, gen)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// AppendRecord appends rec's encoding in a file of generation gen.
func AppendRecord(b []byte, gen uint64, rec Record) []byte { return appendRecord(b, gen, true, rec) }

// AppendEnd appends the end of the records of a file with a header.
func AppendEnd(b []byte) []byte { return append(b, endRecord[:]...) }

func appendRecord(b []byte, gen uint64, headed bool, rec Record) []byte {
	n := 2 + len(rec.ID) + len(rec.Doc)
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = append(b, 0, 0, 0, 0)
	b = append(b, kindPaste, byte(len(rec.ID)))
	b = append(b, rec.ID...)
	b = append(b, rec.Doc...)
	binary.BigEndian.PutUint32(b[start+4:], checksum(gen, headed, b[start+headerSize:]))
	return b
}

// checksum is a record's checksum of payload, in a file of generation gen
// when headed.
func checksum(gen uint64, headed bool, payload []byte) uint32 {
	if !headed {
		return crc32.Checksum(payload, castagnoli)
	}
	var g [8]byte
	binary.BigEndian.PutUint64(g[:], gen)
	return crc32.Update(crc32.Checksum(g[:], castagnoli), castagnoli, payload)
}

// parseHeader returns the generation of the file that begins with b, and
// whether it begins with a header; err when it begins with a header's
// magic but not a whole header.
func parseHeader(b []byte) (gen uint64, headed bool, err error) {
	if len(b) < len(magic) || [4]byte(b[:4]) != magic {
		return 0, false, nil
	}
	if len(b) < fileHeaderSize {
		return 0, true, errors.New("short file header")
	}
	if crc32.Checksum(b[:12], castagnoli) != binary.BigEndian.Uint32(b[12:]) {
		return 0, true, errors.New("file header checksum mismatch")
	}
	return binary.BigEndian.Uint64(b[4:]), true, nil
}

// Parse decodes the records of a file of the log, none larger than
// maxPayload bytes. It returns the records and where they end: the offset
// of the end record in a file with a header, where the next record goes.
// When the records end otherwise than at an end record or at the file's
// end, the error wraps ErrTorn and says why and at which offset; the
// records before are good.
func Parse(log []byte, maxPayload int) (recs []Record, n int, err error) {
	gen, headed, err := parseHeader(log)
	if err != nil {
		return nil, 0, fmt.Errorf("%w at offset 0 of %d: %w", ErrTorn, len(log), err)
	}
	if headed {
		n = fileHeaderSize
	}
	for n < len(log) {
		if headed && len(log)-n >= headerSize && [headerSize]byte(log[n:n+headerSize]) == endRecord {
			return recs, n, nil
		}
		rec, size, err := parseOne(log[n:], maxPayload, gen, headed)
		if err != nil {
			return recs, n, fmt.Errorf("%w at offset %d of %d: %w", ErrTorn, n, len(log), err)
		}
		recs = append(recs, rec)
		n += size
	}
	return recs, n, nil
}

// parseOne decodes the record at the start of b and returns its size.
func parseOne(b []byte, maxPayload int, gen uint64, headed bool) (Record, int, error) {
	if len(b) < headerSize {
		return Record{}, 0, errors.New("short header")
	}
	length := int64(binary.BigEndian.Uint32(b))
	if length < 2 || length > int64(maxPayload) {
		return Record{}, 0, fmt.Errorf("length %d", length)
	}
	if int64(len(b)-headerSize) < length {
		return Record{}, 0, errors.New("short payload")
	}
	payload := b[headerSize : headerSize+int(length)]
	if checksum(gen, headed, payload) != binary.BigEndian.Uint32(b[4:]) {
		return Record{}, 0, errors.New("checksum mismatch")
	}
	if payload[0] != kindPaste {
		return Record{}, 0, fmt.Errorf("unknown kind %q", payload[0])
	}
	idLen := int(payload[1])
	if idLen == 0 || 2+idLen > len(payload) {
		return Record{}, 0, fmt.Errorf("id length %d", idLen)
	}
	rec := Record{ID: string(payload[2 : 2+idLen]), Doc: payload[2+idLen:]}
	return rec, headerSize + int(length), nil
}
