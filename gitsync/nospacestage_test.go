package gitsync

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/internal/testlog"
	"github.com/pasteur-dev/pasteur/paste"
)

// TestStageFull: with room on the disk for the log but not for the pack
// of its commit, the commit fails and is tried again every walRetry; the
// branch stays where it was, the pastes are served from the log, and once
// there is room they are committed once, and the rounds that failed left
// nothing behind (no unreachable commit written with them), though
// pastes were logged between them.
func TestStageFull(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("PASTEUR_E2E") != "" {
			t.Fatal("mounting a tmpfs needs root")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=4m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir := filepath.Join(mnt, "repo")
	s, err := Open(context.Background(), Config{Dir: dir, Logger: testlog.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	mustCreate(t, s, &paste.Paste{ID: "before", Contents: []byte("stored")})
	logCommitted(t, s)
	from, err := s.repo.Ref(s.branch)
	if err != nil {
		t.Fatal(err)
	}

	// Room for the log's pastes and a fifth more: not for their pack.
	const n, size = 40, 4 << 10
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	room := int64(n*size) * 6 / 5
	fill := filepath.Join(mnt, "fill")
	if err := os.WriteFile(fill, make([]byte, free-room), 0o600); err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var ids []string
	// The writer lock held while the pastes are logged (which does not
	// take it): the committer, kicked by a pause between two creates on a
	// loaded machine, would commit the first few, whose pack fits.
	s.writer <- struct{}{}
	for i := range n {
		id := fmt.Sprintf("stage%03d", i)
		body := make([]byte, size)
		for j := range body {
			body[j] = alphabet[rand.IntN(len(alphabet))]
		}
		mustCreate(t, s, &paste.Paste{ID: id, Contents: append([]byte(id+" "), body...)})
		ids = append(ids, id)
	}
	s.unlockWriter()
	// Rounds that fail, each noted by the retry it sets; a small paste
	// logged after each, which the next round takes too.
	var seen []time.Time
	waitFor(t, 30*time.Second, func() bool {
		s.mu.Lock()
		retry := s.logged.retry
		s.mu.Unlock()
		if !retry.IsZero() && (len(seen) == 0 || !retry.Equal(seen[len(seen)-1])) {
			seen = append(seen, retry)
			id := fmt.Sprintf("late%d", len(seen))
			mustCreate(t, s, &paste.Paste{ID: id, Contents: []byte(id + " late")})
			ids = append(ids, id)
		}
		return len(seen) >= 4
	})
	if ref, err := s.repo.Ref(s.branch); err != nil || ref != from {
		t.Fatalf("the branch moved on a full disk: %s -> %s (%v)", from, ref, err)
	}
	for _, id := range ids {
		if got := mustGet(t, s, id); !strings.HasPrefix(string(got.Contents), id+" ") {
			t.Fatalf("%s: %.40q", id, got.Contents)
		}
	}

	os.Remove(fill)
	logCommitted(t, s)
	for _, id := range append(ids, "before") {
		mustGet(t, s, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	unreachable := gittest.Git(t, dir, "fsck", "--unreachable", "--no-reflogs")
	if c := strings.Count(unreachable, "unreachable commit"); c > 0 {
		t.Errorf("%d unreachable commits written, left by the rounds that failed:\n%s", c, unreachable)
	}
	t.Logf("unreachable: %d trees", strings.Count(unreachable, "unreachable tree"))
	gittest.Fsck(t, dir)
	s, err = Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range append(ids, "before") {
		mustGet(t, s, id)
	}
}
