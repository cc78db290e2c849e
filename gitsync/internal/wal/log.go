package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Log is the log: two files, PATH.0 and PATH.1, one of them active, taking
// the appends. Rotate makes the other one active, so that the records of
// the inactive one can be committed while appends go on, and then
// EmptyInactive empties it. It is not safe for concurrent use.
type Log struct {
	files  [2]*os.File
	gens   [2]uint64 // of the files with a header
	ends   [2]int64  // where each file's next record goes
	sizes  [2]int64  // of the records written
	lens   [2]int64  // of the files, at least
	legacy [2]bool   // a file without a header: appended to its end, emptied into the header's form
	unsure [2]bool   // the header written by EmptyInactive is not known durable
	active int
	torn   bool   // a failed append to a file without a header is still to be cut off
	buf    []byte // the encoding of the last append, reused
	// sync makes a file's writes durable: fdatasync; a test's may fail,
	// or keep what a crash would leave.
	sync func(*os.File) error
}

// maxKept is the length above which EmptyInactive truncates a file it
// empties: a log that grew while commits lagged does not keep its disk.
const maxKept = 16 << 20

// maxBuf is the largest encoding that Write keeps for the next.
const maxBuf = 1 << 20

// Open opens the log at path, creating its files (and fsyncing their
// directory) when missing, and returns it with the contents of its two
// files, to be replayed (Parse). A file that is empty is given its header.
func Open(path string) (*Log, [2][]byte, error) {
	l := Log{sync: fdatasync}
	var data [2][]byte
	created := false
	for i := range l.files {
		name := fmt.Sprintf("%s.%d", path, i)
		_, statErr := os.Stat(name)
		created = created || errors.Is(statErr, os.ErrNotExist)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			l.Close()
			return nil, data, err
		}
		l.files[i] = f
		if data[i], err = io.ReadAll(f); err != nil {
			l.Close()
			return nil, data, err
		}
		l.lens[i] = int64(len(data[i]))
		gen, headed, herr := parseHeader(data[i])
		switch {
		case len(data[i]) == 0 || herr != nil:
			// New, or a header torn as it was written over records
			// committed before: records of a generation of the clock's.
			// What the file held goes, whatever its generations: a
			// clock set back could give one of them again, and the
			// next emptyings count up from it.
			if err := l.reset(i, uint64(time.Now().UnixNano())); err != nil {
				l.Close()
				return nil, data, err
			}
			if err := f.Truncate(fileHeaderSize + headerSize); err != nil {
				l.Close()
				return nil, data, fmt.Errorf("wal: truncate: %w", err)
			}
			l.lens[i] = fileHeaderSize + headerSize
			if err := l.sync(f); err != nil {
				l.Close()
				return nil, data, err
			}
			l.unsure[i] = false
		case headed:
			_, n, _ := Parse(data[i], MaxPayload)
			l.gens[i], l.ends[i], l.sizes[i] = gen, int64(n), int64(n-fileHeaderSize)
		default:
			l.legacy[i], l.ends[i], l.sizes[i] = true, int64(len(data[i])), int64(len(data[i]))
		}
	}
	if created {
		if err := syncDir(filepath.Dir(path)); err != nil {
			l.Close()
			return nil, data, err
		}
	}
	return &l, data, nil
}

// Write appends recs to the active file and makes them durable, written
// over what follows the file's last record. On an error, what it wrote is
// cut off again, so that the records appended after it are not behind a
// torn one.
func (l *Log) Write(recs []Record) error {
	i := l.active
	f := l.files[i]
	if l.torn {
		if err := f.Truncate(l.ends[i]); err != nil {
			return fmt.Errorf("wal: cut a failed append: %w", err)
		}
		l.torn = false
	}
	if l.unsure[i] {
		// The emptying's header first, written again: after a failed
		// writeback its page is clean in memory but not on the disk.
		if err := l.settle(i); err != nil {
			return err
		}
	}
	b := l.buf[:0]
	for _, r := range recs {
		if l.legacy[i] {
			b = Append(b, r)
		} else {
			b = AppendRecord(b, l.gens[i], r)
		}
	}
	n := int64(len(b))
	if !l.legacy[i] {
		b = AppendEnd(b)
	}
	if cap(b) <= maxBuf {
		l.buf = b
	}
	_, err := f.WriteAt(b, l.ends[i])
	if err != nil {
		err = fmt.Errorf("wal: append: %w", err)
	} else if err = l.sync(f); err != nil {
		err = fmt.Errorf("wal: append: %w", err)
	}
	if err != nil {
		if l.legacy[i] {
			l.torn = f.Truncate(l.ends[i]) != nil
		} else {
			_, _ = f.WriteAt(endRecord[:], l.ends[i])
		}
		return err
	}
	l.ends[i] += n
	l.sizes[i] += n
	l.lens[i] = max(l.lens[i], l.ends[i]+int64(len(b))-n) // the end record's too
	return nil
}

// Size is the length of the log's records, both files.
func (l *Log) Size() int64 { return l.sizes[0] + l.sizes[1] }

// Empty reports whether the log holds no record, durably: none appended
// since each file was last emptied, and each emptying known durable. A
// log with no record whose emptying failed is not empty: until
// EmptyInactive or an append writes it again, a crash leaves the
// records the emptying was to drop, committed, to be replayed (a paste
// removed since would come back).
func (l *Log) Empty() bool { return l.Size() == 0 && !l.unsure[0] && !l.unsure[1] }

// Rotate makes the inactive file the active one. A failed append is cut
// off first.
func (l *Log) Rotate() error {
	if l.torn {
		if err := l.files[l.active].Truncate(l.ends[l.active]); err != nil {
			return fmt.Errorf("wal: cut a failed append: %w", err)
		}
		l.torn = false
	}
	l.active ^= 1
	return nil
}

// EmptyInactive empties the inactive file, durably: its records are
// committed. It writes the header of the file's next generation and the
// end over what the file held, which keeps its blocks. An emptying of
// the active file that failed (and that no append has made durable
// since) is written again too.
func (l *Log) EmptyInactive() error {
	if a := l.active; l.unsure[a] {
		if err := l.settle(a); err != nil {
			return err
		}
	}
	i := l.active ^ 1
	if l.sizes[i] == 0 && !l.legacy[i] && !l.unsure[i] {
		return nil
	}
	if err := l.reset(i, l.gens[i]+1); err != nil {
		return err
	}
	if err := l.sync(l.files[i]); err != nil {
		return err
	}
	l.unsure[i] = false
	return nil
}

// settle makes durable the header that file i was last emptied to: after
// a failed write or writeback, its page may be clean in memory but not
// on the disk, and is written again. Nothing follows it: an append to
// the file settles it first.
func (l *Log) settle(i int) error {
	if l.unsure[i] {
		if err := l.reset(i, l.gens[i]); err != nil {
			return err
		}
	}
	if err := l.sync(l.files[i]); err != nil {
		return err
	}
	l.unsure[i] = false
	return nil
}

// reset writes the header of generation gen and the end at the start of
// file i, not yet durably (unsure until an fdatasync), and truncates a
// file that held no header or grew beyond maxKept. What the file held is
// committed, or not to be kept: from here on, the file is of gen, even
// when the write fails (the next append writes the header again first).
func (l *Log) reset(i int, gen uint64) error {
	f := l.files[i]
	l.gens[i], l.ends[i], l.sizes[i], l.unsure[i] = gen, fileHeaderSize, 0, true
	b := AppendEnd(AppendHeader(nil, gen))
	if _, err := f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("wal: empty: %w", err)
	}
	wasLegacy := l.legacy[i]
	l.legacy[i] = false
	l.lens[i] = max(l.lens[i], int64(len(b)))
	if wasLegacy || l.lens[i] > maxKept {
		if err := f.Truncate(int64(len(b))); err != nil {
			return fmt.Errorf("wal: truncate: %w", err)
		}
		l.lens[i] = int64(len(b))
	}
	return nil
}

// Close closes the log's files.
func (l *Log) Close() error {
	var err error
	for _, f := range l.files {
		if f != nil {
			err = errors.Join(err, f.Close())
		}
	}
	return err
}

// fdatasync makes f's writes durable, and what reading them needs.
func fdatasync(f *os.File) error {
	if err := syscall.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("wal: fdatasync: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
