package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Log is the log: two files, PATH.0 and PATH.1, one of them active, taking
// the appends. Rotate makes the other one active, so that the records of
// the inactive one can be committed while appends go on, and then
// TruncateInactive empties it. It is not safe for concurrent use.
type Log struct {
	files  [2]*os.File
	sizes  [2]int64 // of the records written
	active int
	torn   bool // a failed append is still to be cut off
}

// Open opens the log at path, creating its files (and fsyncing their
// directory) when missing, and returns it with the contents of its two
// files, to be replayed.
func Open(path string) (*Log, [2][]byte, error) {
	var l Log
	var data [2][]byte
	created := false
	for i := range l.files {
		name := fmt.Sprintf("%s.%d", path, i)
		_, statErr := os.Stat(name)
		created = created || errors.Is(statErr, os.ErrNotExist)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			l.Close()
			return nil, data, err
		}
		l.files[i] = f
		if data[i], err = io.ReadAll(f); err != nil {
			l.Close()
			return nil, data, err
		}
		l.sizes[i] = int64(len(data[i]))
	}
	if created {
		if err := syncDir(filepath.Dir(path)); err != nil {
			l.Close()
			return nil, data, err
		}
	}
	return &l, data, nil
}

// Write appends b (records made with Append) to the active file and makes
// it durable. On an error, what it wrote is cut off again, so that the
// records appended after it are not behind a torn one.
func (l *Log) Write(b []byte) error {
	f := l.files[l.active]
	if l.torn {
		if err := f.Truncate(l.sizes[l.active]); err != nil {
			return fmt.Errorf("wal: cut a failed append: %w", err)
		}
		l.torn = false
	}
	_, err := f.Write(b)
	if err != nil {
		err = fmt.Errorf("wal: append: %w", err)
	} else if err = syscall.Fdatasync(int(f.Fd())); err != nil {
		err = fmt.Errorf("wal: fdatasync: %w", err)
	}
	if err != nil {
		l.torn = f.Truncate(l.sizes[l.active]) != nil
		return err
	}
	l.sizes[l.active] += int64(len(b))
	return nil
}

// Size is the length of the log, both files.
func (l *Log) Size() int64 { return l.sizes[0] + l.sizes[1] }

// Rotate makes the inactive file the active one. A failed append is cut
// off first.
func (l *Log) Rotate() error {
	if l.torn {
		if err := l.files[l.active].Truncate(l.sizes[l.active]); err != nil {
			return fmt.Errorf("wal: cut a failed append: %w", err)
		}
		l.torn = false
	}
	l.active ^= 1
	return nil
}

// TruncateInactive empties the inactive file, durably: its records are
// committed.
func (l *Log) TruncateInactive() error {
	i := l.active ^ 1
	if l.sizes[i] == 0 {
		return nil
	}
	if err := l.files[i].Truncate(0); err != nil {
		return fmt.Errorf("wal: truncate: %w", err)
	}
	l.sizes[i] = 0
	if err := syscall.Fdatasync(int(l.files[i].Fd())); err != nil {
		return fmt.Errorf("wal: fdatasync: %w", err)
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

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
