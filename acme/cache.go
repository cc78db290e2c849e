package acme

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrCacheMiss is returned by a Cache's Get when it holds nothing under the
// name.
var ErrCacheMiss = errors.New("acme: cache miss")

// Cache keeps the Manager's account key and its certificates with their
// private keys, so that a restart reuses them. Names are plain file names
// (no path separators). Implementations must be safe for concurrent use.
type Cache interface {
	// Get returns the data stored under name, or an error wrapping
	// ErrCacheMiss if there is none.
	Get(ctx context.Context, name string) ([]byte, error)

	// Put stores data under name, replacing what was there. A Get that
	// follows a successful Put returns data.
	Put(ctx context.Context, name string, data []byte) error

	// Delete removes name. Deleting a missing name is not an error.
	Delete(ctx context.Context, name string) error
}

// DirCache is a Cache in a directory of the file system, created (mode
// 0700) on the first Put. Files are written whole (a temporary file
// renamed), with mode 0600: they hold private keys.
type DirCache string

// Get reads the file name in the directory.
func (d DirCache) Get(ctx context.Context, name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrCacheMiss, p)
	}
	return b, err
}

// Put writes the file name in the directory, atomically.
func (d DirCache) Put(ctx context.Context, name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return fmt.Errorf("acme: cache: %w", err)
	}
	f, err := os.CreateTemp(string(d), "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("acme: cache: %w", err)
	}
	_, werr := f.Write(data)
	if err := f.Sync(); werr == nil {
		werr = err
	}
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Rename(f.Name(), p)
	}
	if werr != nil {
		os.Remove(f.Name())
		return fmt.Errorf("acme: cache: write %s: %w", p, werr)
	}
	return nil
}

// Delete removes the file name from the directory.
func (d DirCache) Delete(ctx context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("acme: cache: %w", err)
	}
	return nil
}

func (d DirCache) path(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("acme: cache: bad name %q", name)
	}
	return filepath.Join(string(d), name), nil
}
