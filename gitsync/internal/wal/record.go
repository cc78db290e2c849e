// Package wal is the write-ahead log of pastes (docs/FORMAT.md, "The
// write-ahead log"): the records gitsync appends and fdatasyncs before it
// answers a Create, and commits to the branch behind it.
//
// A record is
//
//	length   uint32, big endian: the payload's length (1 or more)
//	checksum uint32, big endian: CRC-32C (Castagnoli) of the payload
//	payload  kind (1 byte, 'P': a paste), id length (1 byte), id,
//	         the paste's stored document (paste.Marshal)
//
// The log is a sequence of records from offset 0. A torn or corrupt record
// (short, a length out of bounds, a checksum that does not match, an
// unknown kind) ends the log: it and whatever follows are dropped.
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
	headerSize = 8
	kindPaste  = 'P'
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrTorn is wrapped by Parse's error when the log ends in a record that
// is incomplete or corrupt.
var ErrTorn = errors.New("wal: torn or corrupt record")

// Size is the length of rec's encoding.
func Size(rec Record) int { return headerSize + 2 + len(rec.ID) + len(rec.Doc) }

// Append appends rec's encoding to b.
func Append(b []byte, rec Record) []byte {
	n := 2 + len(rec.ID) + len(rec.Doc)
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = append(b, 0, 0, 0, 0)
	b = append(b, kindPaste, byte(len(rec.ID)))
	b = append(b, rec.ID...)
	b = append(b, rec.Doc...)
	sum := crc32.Checksum(b[start+headerSize:], castagnoli)
	binary.BigEndian.PutUint32(b[start+4:], sum)
	return b
}

// Parse decodes the records of log, none larger than maxPayload bytes. It
// returns the records and the length of the part of log they fill. When
// log holds more than that, the error wraps ErrTorn and says why and at
// which offset; the records before are good.
func Parse(log []byte, maxPayload int) (recs []Record, n int, err error) {
	for n < len(log) {
		rec, size, err := parseOne(log[n:], maxPayload)
		if err != nil {
			return recs, n, fmt.Errorf("%w at offset %d of %d: %w", ErrTorn, n, len(log), err)
		}
		recs = append(recs, rec)
		n += size
	}
	return recs, n, nil
}

// parseOne decodes the record at the start of b and returns its size.
func parseOne(b []byte, maxPayload int) (Record, int, error) {
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
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(b[4:]) {
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
