package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the file in a repository's directory that the Repo using
// it holds an exclusive flock(2) on, from Open to Close. It holds the
// holder's pid, for the error of the next one. The kernel drops the lock
// when the process dies, so a killed process leaves no lock behind; the
// file stays.
const LockFile = "pasteur.lock"

// ErrInUse is returned by Open when another Repo, of this process or
// another, has the directory open: two writers would delete each other's
// packs and interleave their log records.
var ErrInUse = errors.New("in use by another pasteur process")

// dirLock is the held lock of a directory.
type dirLock struct{ f *os.File }

// lockDir takes the lock of the repository in dir, without waiting: an
// error wrapping ErrInUse, with the holder's pid when its file says it,
// when another holds it.
func lockDir(dir string) (*dirLock, error) {
	name := filepath.Join(dir, LockFile)
	// O_CLOEXEC (os's default): a process this one starts does not hold
	// the lock after it ends.
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	// flock is per open file description: a second Open in the same
	// process conflicts too.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, inUse(name)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(pid, 0) // only for the message of the next one
	}
	return &dirLock{f: f}, nil
}

// inUse is ErrInUse for the lock file name, with the pid written in it.
func inUse(name string) error {
	b, _ := os.ReadFile(name)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
		return fmt.Errorf("%w (pid %d, holding %s)", ErrInUse, pid, name)
	}
	return fmt.Errorf("%w (holding %s)", ErrInUse, name)
}

// unlock releases the lock. The file stays: removing it would let a
// process that opened it before the removal lock a file no one else sees.
func (l *dirLock) unlock() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}
