package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Log is the log file, open for appending. It is not safe for concurrent
// use.
type Log struct {
	f    *os.File
	size int64 // of the records written
	torn bool  // a failed append is still to be cut off
}

// Open opens the log at path, creating it (and fsyncing its directory)
// when missing, and returns it with its contents, to be replayed.
func Open(path string) (*Log, []byte, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return &Log{f: f, size: int64(len(data))}, data, nil
}

// Write appends b (records made with Append) and makes it durable. On an
// error, what it wrote is cut off again, so that the records appended
// after it are not behind a torn one.
func (l *Log) Write(b []byte) error {
	if l.torn {
		if err := l.f.Truncate(l.size); err != nil {
			return fmt.Errorf("wal: cut a failed append: %w", err)
		}
		l.torn = false
	}
	_, err := l.f.Write(b)
	if err != nil {
		err = fmt.Errorf("wal: append: %w", err)
	} else if err = syscall.Fdatasync(int(l.f.Fd())); err != nil {
		err = fmt.Errorf("wal: fdatasync: %w", err)
	}
	if err != nil {
		l.torn = l.f.Truncate(l.size) != nil
		return err
	}
	l.size += int64(len(b))
	return nil
}

// Size is the length of the log.
func (l *Log) Size() int64 { return l.size }

// Truncate empties the log, durably: its records are committed.
func (l *Log) Truncate() error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("wal: truncate: %w", err)
	}
	l.size = 0
	if err := syscall.Fdatasync(int(l.f.Fd())); err != nil {
		return fmt.Errorf("wal: fdatasync: %w", err)
	}
	return nil
}

// Close closes the log file.
func (l *Log) Close() error { return l.f.Close() }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
