package gitsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/gitsync/internal/wal"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
)

// ackDisk answers Creates once logged, pushing behind.
func ackDisk(c *Config) { c.Ack = AckDisk }

// drained waits until s has pushed every paste it answered.
func drained(t *testing.T, s *Store) {
	t.Helper()
	waitFor(t, 20*time.Second, func() bool {
		st := s.Status()
		return st.Queued == 0 && st.Logged == 0 && !st.Unpushed
	})
}

// onRemote reports how many times each id is a file of the remote's
// branch (in dir).
func onRemote(t *testing.T, dir string) map[string]int {
	t.Helper()
	n := make(map[string]int)
	for _, f := range strings.Fields(git(t, dir, "ls-tree", "-r", "--name-only", "master")) {
		n[filepath.Base(f)]++
	}
	return n
}

func TestAckDiskNeedsDir(t *testing.T) {
	_, err := Open(context.Background(), Config{Remote: "git://127.0.0.1/x.git", Ack: AckDisk})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != FieldAck {
		t.Errorf("AckDisk without Dir: %v, want a ConfigError on %s", err, FieldAck)
	}
}

// TestAckDiskContract: with AckDisk and a remote, the store keeps
// paste.Store's contract.
func TestAckDiskContract(t *testing.T) {
	d := gittest.StartDaemon(t)
	i := 0
	pastetest.TestStore(t, func(t *testing.T) paste.Store {
		i++
		url, _ := d.NewRepo(t, fmt.Sprintf("contract%d.git", i), true)
		return open(t, url, ackDisk)
	})
}

// TestAckDiskPushesBehind: pastes are answered from the log, read back on
// the same server at once, and pushed behind; Status counts them until
// then; a removal of a logged paste is pushed too.
func TestAckDiskPushesBehind(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	s := open(t, url, ackDisk, eager)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			mustCreate(t, s, &paste.Paste{ID: fmt.Sprintf("behind%02d", i), Contents: []byte("x")})
		})
	}
	wg.Wait()
	mustGet(t, s, "behind07")
	if st := s.Status(); st.Ack != "disk" || !st.Queueing {
		t.Errorf("status: %+v", st)
	}
	if err := s.Remove(context.Background(), "behind01", paste.Deleted); err != nil {
		t.Fatalf("Remove a logged paste: %v", err)
	}
	drained(t, s)
	got := onRemote(t, dir)
	for i := range 40 {
		id := fmt.Sprintf("behind%02d", i)
		if got[id] != 1 {
			t.Errorf("%s is %d times on the remote", id, got[id])
		}
	}
	if data := git(t, dir, "show", "master:"+pathOf(t, dir, "behind01")); !strings.Contains(data, "deleted") {
		t.Errorf("behind01 on the remote: %q, want its tombstone", data)
	}
	if c := s.Counters(); c.Pushes == 0 {
		t.Errorf("counters: %+v, want pushes", c)
	}
	// Another server reads them once pushed.
	other := open(t, url)
	mustGet(t, other, "behind39")
	gittest.Fsck(t, dir)
}

// TestAckDiskRemoteDown: while the remote is down, pastes are answered
// from the log, committed, and counted as queued; once it is back they
// are pushed.
func TestAckDiskRemoteDown(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	s := open(t, url, ackDisk, quickRetry)
	mustCreate(t, s, &paste.Paste{ID: "before", Contents: []byte("x")})
	drained(t, s)
	d.Kill()
	for i := range 5 {
		mustCreate(t, s, &paste.Paste{ID: fmt.Sprintf("down%d", i), Contents: []byte("x")})
	}
	waitFor(t, 10*time.Second, func() bool { return !s.Status().Reachable })
	if st := s.Status(); st.Queued != 5 {
		t.Errorf("status with the remote down: %+v, want 5 queued", st)
	}
	mustGet(t, s, "down3")
	d.Start(t)
	drained(t, s)
	got := onRemote(t, dir)
	for _, id := range []string{"before", "down0", "down4"} {
		if got[id] != 1 {
			t.Errorf("%s is %d times on the remote", id, got[id])
		}
	}
}

// TestAckDiskReplayPushes: a log left by a crash (answered, never
// committed nor pushed) is committed and pushed at Open, after another
// server moved the remote: nothing lost, nothing twice.
func TestAckDiskReplayPushes(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	local := t.TempDir()
	s, err := openDir(t, url, local, ackDisk)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, &paste.Paste{ID: "pushed", Contents: []byte("x")})
	drained(t, s)
	s.Close()
	doc, _ := paste.Marshal(&paste.Paste{Contents: []byte("from the log")})
	var log []byte
	for _, id := range []string{"crash1", "crash2"} {
		log = wal.Append(log, wal.Record{ID: id, Doc: doc})
	}
	if err := os.WriteFile(filepath.Join(local, walFile+".0"), log, 0o600); err != nil {
		t.Fatal(err)
	}
	other := open(t, url)
	mustCreate(t, other, &paste.Paste{ID: "other", Contents: []byte("o")})

	s, err = openDir(t, url, local, ackDisk)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	drained(t, s)
	got := onRemote(t, dir)
	for _, id := range []string{"pushed", "crash1", "crash2", "other"} {
		if got[id] != 1 {
			t.Errorf("%s is %d times on the remote", id, got[id])
		}
	}
	gittest.Fsck(t, dir)
}

// TestAckDiskContended: two servers with AckDisk on one remote, creating
// at once: pushes are refused, fetched, replayed and pushed again; every
// answered paste ends on the remote once.
func TestAckDiskContended(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	s1, s2 := open(t, url, ackDisk), open(t, url, ackDisk)
	var wg sync.WaitGroup
	for i := range 60 {
		s := s1
		if i%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			mustCreate(t, s, &paste.Paste{ID: fmt.Sprintf("both%02d", i), Contents: []byte("x")})
		})
	}
	wg.Wait()
	drained(t, s1)
	drained(t, s2)
	got := onRemote(t, dir)
	for i := range 60 {
		if id := fmt.Sprintf("both%02d", i); got[id] != 1 {
			t.Errorf("%s is %d times on the remote", id, got[id])
		}
	}
	gittest.Fsck(t, dir)
}

// TestAckDiskExpiryAndBurn: a logged paste that expires is removed and
// its tombstone pushed; a logged paste that burns is had by one reader,
// its tombstone on the remote.
func TestAckDiskExpiryAndBurn(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	s := open(t, url, ackDisk, func(c *Config) { c.SyncInterval = 200 * time.Millisecond })
	mustCreate(t, s, &paste.Paste{ID: "soon", Contents: []byte("x"), Expires: time.Now().Add(time.Second)})
	mustCreate(t, s, &paste.Paste{ID: "burnt", Contents: []byte("once"), Burn: true})
	p, err := s.Burn(context.Background(), "burnt")
	if err != nil || string(p.Contents) != "once" {
		t.Fatalf("Burn of a logged paste: %v, %v", p, err)
	}
	if _, err := s.Burn(context.Background(), "burnt"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("second Burn: %v, want ErrGone", err)
	}
	if data := git(t, dir, "show", "master:"+pathOf(t, dir, "burnt")); !strings.Contains(data, `"removed":"burned"`) {
		t.Errorf("burnt on the remote: %q, want its tombstone", data)
	}
	waitFor(t, 15*time.Second, func() bool {
		return strings.Contains(git(t, dir, "show", "master:"+path("soon")), `"removed":"expired"`)
	})
	if _, err := s.Get(context.Background(), "soon"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("Get soon after its expiry: %v, want ErrGone", err)
	}
}

// TestSyncsCounted: the periodic fetches are counted (Counters.Syncs),
// with AckDisk (the push behind the log fetches) and without (the
// writer loop does); a read miss's fetch is not one.
func TestSyncsCounted(t *testing.T) {
	d := gittest.StartDaemon(t)
	for _, c := range []struct {
		name string
		opts []func(*Config)
	}{
		{"push", nil},
		{"disk", []func(*Config){ackDisk}},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, _ := d.NewRepo(t, "syncs-"+c.name+".git", true)
			s := open(t, url, append(c.opts, func(c *Config) { c.SyncInterval = 100 * time.Millisecond })...)
			waitFor(t, 15*time.Second, func() bool { return s.Counters().Syncs >= 2 })
		})
	}
	url, _ := d.NewRepo(t, "syncs-miss.git", true)
	s := open(t, url, func(c *Config) { c.SyncInterval = time.Hour })
	if _, err := s.Get(context.Background(), "missing"); !errors.Is(err, paste.ErrNotFound) {
		t.Fatalf("Get of a missing paste: %v", err)
	}
	if n := s.Counters().Syncs; n != 0 {
		t.Errorf("Syncs after a read miss and no periodic fetch: %d, want 0", n)
	}
}
