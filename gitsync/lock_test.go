package gitsync

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/internal/testlog"
)

// TestOpenLocksDir: a directory a Store has open is refused to a second
// Open and to Migrate, in the same process too (flock is per open file
// description), with the holder's pid, until the Store closes.
func TestOpenLocksDir(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), Config{Dir: dir, Logger: testlog.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(t.Context(), Config{Dir: dir})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second Open: %v; want ErrInUse naming %s and pid %d", err, dir, os.Getpid())
	}
	if _, err := Migrate(dir, "", time.Now()); !errors.Is(err, ErrInUse) {
		t.Fatalf("Migrate while open: %v; want ErrInUse", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
	if _, err := Migrate(dir, "", time.Now()); err != nil {
		t.Fatalf("Migrate after Close: %v", err)
	}
}

// lockHolderEnv names the directory the test binary, started by
// TestLockFreedWhenKilled, holds open until it is killed.
const lockHolderEnv = "PASTEUR_TEST_LOCK_HOLDER"

// TestLockFreedWhenKilled: a process killed with SIGKILL leaves no lock:
// the kernel drops it with the process.
func TestLockFreedWhenKilled(t *testing.T) {
	if dir := os.Getenv(lockHolderEnv); dir != "" {
		holdLock(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockFreedWhenKilled$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("the holder said %q, %v", line, err)
	}
	_, err = Open(t.Context(), Config{Dir: dir})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Fatalf("Open while another process holds it: %v; want ErrInUse with pid %d", err, cmd.Process.Pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	s, err := Open(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatalf("Open after the holder was killed: %v", err)
	}
	s.Close()
}

// holdLock opens a Store on dir, says so, and waits to be killed (a
// minute at most).
func holdLock(dir string) {
	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer s.Close()
	fmt.Println("locked")
	time.Sleep(time.Minute)
	os.Exit(1)
}

// TestFailedOpenClosesFiles: an Open that fails after the repository is
// open (here the remote has no such repository, a permanent refusal)
// leaves no file of the directory open: not the lock, which a retry
// takes, nor the write-ahead log's files.
func TestFailedOpenClosesFiles(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, _ := d.NewRepo(t, "pastes.git", true)
	url = strings.Replace(url, "pastes.git", "missing.git", 1)
	dir := t.TempDir()
	for range 2 { // the second finds the lock free
		if _, err := openDir(t, url, dir); err == nil || errors.Is(err, ErrInUse) {
			t.Fatalf("Open with a missing remote repository: %v", err)
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	for _, fd := range fds {
		if to, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(to, dir) {
			t.Errorf("fd %s still open on %s after the failed Opens", fd.Name(), to)
		}
	}
}

// TestLockNotInherited: a process the holder starts (and that outlives
// its Close) does not hold the lock: the lock's descriptor is
// close-on-exec.
func TestLockNotInherited(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	s, err := Open(t.Context(), Config{Dir: dir, Logger: testlog.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(sleep, "30")
	if err := child.Start(); err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), Config{Dir: dir, Logger: testlog.New(t)})
	if err != nil {
		t.Fatalf("Open after Close, with a process started by the first still running: %v", err)
	}
	s.Close()
}
