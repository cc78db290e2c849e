package gitsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/gitsync/internal/wal"
	"github.com/pasteur-dev/pasteur/paste"
)

// logCommitted waits until the writer loop has committed what s's log
// holds (it does after walIdle without pastes).
func logCommitted(t *testing.T, s *Store) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.mu.Lock()
		n := len(s.logged.order)
		s.mu.Unlock()
		if n == 0 {
			return
		}
	}
	t.Fatal("the write-ahead log was not committed in 10 s")
}

// TestLogServesAndCommits: a paste answered from the log is read back
// before its commit, removed like any other, and committed after a pause.
func TestLogServesAndCommits(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreate(t, s, &paste.Paste{ID: "logged1", Contents: []byte("one")})
	mustCreate(t, s, &paste.Paste{ID: "logged2", Contents: []byte("two")})
	if got := mustGet(t, s, "logged1"); string(got.Contents) != "one" {
		t.Errorf("Get logged1: %q", got.Contents)
	}
	if err := s.Create(context.Background(), &paste.Paste{ID: "logged1", Contents: []byte("again")}); !errors.Is(err, paste.ErrExists) {
		t.Errorf("Create of a logged id: %v, want ErrExists", err)
	}
	if err := s.Remove(context.Background(), "logged2", paste.Deleted); err != nil {
		t.Fatalf("Remove a logged paste: %v", err)
	}
	if _, err := s.Get(context.Background(), "logged2"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("Get after Remove: %v, want ErrGone", err)
	}
	logCommitted(t, s)
	if n := logRecords(t, dir); n != 0 {
		t.Errorf("the log after its commit: %d records", n)
	}
	mustGet(t, s, "logged1")
}

// TestLogReplay: a log left by a crash is committed at Open: its pastes
// are served, those already committed are not committed again, and a torn
// last record is dropped.
func TestLogReplay(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, &paste.Paste{ID: "committed", Contents: []byte("in the branch")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	doc := func(text string) []byte {
		b, err := paste.Marshal(&paste.Paste{Contents: []byte(text)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var log []byte
	log = wal.Append(log, wal.Record{ID: "committed", Doc: doc("a second version, never answered")})
	log = wal.Append(log, wal.Record{ID: "replayed", Doc: doc("from the log")})
	torn := wal.Append(nil, wal.Record{ID: "torn", Doc: doc("cut short")})
	log = append(log, torn[:len(torn)-3]...)
	if err := os.WriteFile(filepath.Join(dir, walFile+".1"), log, 0o600); err != nil {
		t.Fatal(err)
	}

	s, err = Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := mustGet(t, s, "replayed"); string(got.Contents) != "from the log" {
		t.Errorf("replayed: %q", got.Contents)
	}
	if got := mustGet(t, s, "committed"); string(got.Contents) != "in the branch" {
		t.Errorf("committed: %q", got.Contents)
	}
	if _, err := s.Get(context.Background(), "torn"); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("torn: %v, want ErrNotFound", err)
	}
	s.mu.Lock()
	n := len(s.logged.order)
	s.mu.Unlock()
	if b := logRecords(t, dir); b != 0 || n != 0 {
		t.Errorf("after the replay: %d logged, log of %d records", n, b)
	}
}

// logRecords is the records the log's files in dir hold (a file emptied
// keeps its length, and what follows its end is not read).
func logRecords(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, f := range []string{walFile + ".0", walFile + ".1"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		recs, _, _ := wal.Parse(data, wal.MaxPayload)
		n += len(recs)
	}
	return n
}

// TestLogBound: while the log holds walMaxPending bytes it cannot commit,
// Creates are refused with ErrUnavailable.
func TestLogBound(t *testing.T) {
	s, err := Open(context.Background(), Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	s.logged.bytes = walMaxPending // as if that much failed to commit
	s.mu.Unlock()
	if err := s.Create(context.Background(), &paste.Paste{ID: "refused", Contents: []byte("x")}); !errors.Is(err, paste.ErrUnavailable) {
		t.Errorf("Create over the bound: %v, want ErrUnavailable", err)
	}
	s.mu.Lock()
	s.logged.bytes = 0
	s.mu.Unlock()
	mustCreate(t, s, &paste.Paste{ID: "taken", Contents: []byte("x")})
}

// TestLogReplayLarge: a log of more pastes than one commit takes, and
// more bytes than a staged pack that waits for a merge, is committed in
// several commits and one pack; the same log found again after that (a
// crash between the pack, its ref and the log emptied) commits
// nothing more, and every paste is there once.
func TestLogReplayLarge(t *testing.T) {
	dir := t.TempDir()
	closeStore(t, mustOpenLog(t, dir, nil))
	const n = 2*walMinCommit + 100
	var log []byte
	var ids []string
	for i := range n {
		id := fmt.Sprintf("large%05d", i)
		ids = append(ids, id)
		log = logPaste(t, log, id, []byte(id+strings.Repeat(" of the log", 200)))
	}
	var tip plumbing.Hash
	for round := range 2 {
		s := mustOpenLog(t, dir, log)
		for _, id := range ids {
			if got := mustGet(t, s, id); !strings.HasPrefix(string(got.Contents), id+" of the log") {
				t.Fatalf("round %d: %s: %.40q", round, id, got.Contents)
			}
		}
		ref, err := s.repo.Ref(s.branch)
		if err != nil {
			t.Fatal(err)
		}
		if round == 1 && ref != tip {
			t.Errorf("the log committed again: the branch moved from %s to %s", tip, ref)
		}
		tip = ref
		if b := logRecords(t, dir); b != 0 {
			t.Errorf("round %d: the log after the replay: %d records", round, b)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// n pastes in the branch, in commits of walMinCommit to
	// walMaxCommit; git reads the pack.
	commits, _ := strconv.Atoi(strings.TrimSpace(gittest.Git(t, dir, "rev-list", "--count", "--first-parent", "master")))
	if most := (n + walMinCommit - 1) / walMinCommit; commits < 1 || commits > most {
		t.Errorf("%d commits, want 1 to %d", commits, most)
	}
	gittest.Fsck(t, dir)
}

// TestLogRoundBound: a log of more than walMaxBytes of pastes (one that
// grew while commits lagged or failed, up to walMaxPending, or found at a
// start) is committed in rounds of walMaxBytes at most, each its own
// pack: a round is built and encoded in memory whole, so what it holds
// is bounded by walMaxBytes, not by what the log holds.
func TestLogRoundBound(t *testing.T) {
	dir := t.TempDir()
	closeStore(t, mustOpenLog(t, dir, nil))
	var log []byte
	var ids []string
	total := 0
	for i := 0; total < 3*walMaxBytes; i++ {
		id := fmt.Sprintf("bound%05d", i)
		body := make([]byte, 64<<10)
		for j := range body {
			body[j] = "0123456789abcdef"[(i*7919+j*31+j/97)%16]
		}
		doc, err := paste.Marshal(&paste.Paste{Contents: append([]byte(id+" "), body...)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		total += len(doc)
		log = wal.Append(log, wal.Record{ID: id, Doc: doc})
	}
	s := mustOpenLog(t, dir, log)
	for _, id := range ids {
		if got := mustGet(t, s, id); !strings.HasPrefix(string(got.Contents), id+" ") {
			t.Fatalf("%s: %.40q", id, got.Contents)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	idxs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
	for _, idx := range idxs {
		blobs := 0
		for _, line := range strings.Split(gittest.Git(t, dir, "verify-pack", "-v", idx), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[1] == "blob" {
				n, _ := strconv.Atoi(f[2])
				blobs += n
			}
		}
		if blobs > walMaxBytes {
			t.Errorf("%s holds %d bytes of pastes, more than a round's %d", filepath.Base(idx), blobs, walMaxBytes)
		}
	}
	gittest.Fsck(t, dir)
}

// TestLogRoundPastes: a log of many small pastes is committed in rounds
// of walMaxRoundPastes at most: what a round holds in memory (the trees
// of its commits, and their copies in the encoding of its pack) grows
// with its pastes, not with their bytes.
func TestLogRoundPastes(t *testing.T) {
	dir := t.TempDir()
	closeStore(t, mustOpenLog(t, dir, nil))
	n := 2*walMaxRoundPastes + 100
	var log []byte
	var ids []string
	for i := range n {
		id := fmt.Sprintf("small%06d", i*7919%1000000)
		ids = append(ids, id)
		log = logPaste(t, log, id, []byte(id))
	}
	s := mustOpenLog(t, dir, log)
	for _, id := range ids {
		if got := mustGet(t, s, id); string(got.Contents) != id {
			t.Fatalf("%s: %.40q", id, got.Contents)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	idxs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
	for _, idx := range idxs {
		if blobs := strings.Count(gittest.Git(t, dir, "verify-pack", "-v", idx), " blob "); blobs > walMaxRoundPastes {
			t.Errorf("%s holds %d pastes, more than a round's %d", filepath.Base(idx), blobs, walMaxRoundPastes)
		}
	}
}

// TestLogReplayPartly: a crash between two rounds of a log file (the
// first durable, the file not emptied) leaves a log whose first pastes
// are committed: the replay commits the others, and each is on the
// branch once.
func TestLogReplayPartly(t *testing.T) {
	dir := t.TempDir()
	var log []byte
	var ids []string
	for round := range 2 {
		for i := range 300 {
			id := fmt.Sprintf("part%d%04d", round, i)
			ids = append(ids, id)
			log = logPaste(t, log, id, []byte(id))
		}
		s := mustOpenLog(t, dir, log)
		for _, id := range ids {
			if got := mustGet(t, s, id); string(got.Contents) != id {
				t.Fatalf("%s: %q", id, got.Contents)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	files := make(map[string]int)
	for _, line := range strings.Split(strings.TrimSpace(gittest.Git(t, dir, "ls-tree", "-r", "--name-only", "master")), "\n") {
		files[line[strings.LastIndex(line, "/")+1:]]++
	}
	for _, id := range ids {
		if files[id] != 1 {
			t.Errorf("%s is on the branch %d times", id, files[id])
		}
	}
	if len(files) != len(ids) {
		t.Errorf("%d files on the branch, want %d", len(files), len(ids))
	}
	gittest.Fsck(t, dir)
}

// mustOpenLog opens the store in dir after writing log, if any, as its
// first log file: the store replays it.
func mustOpenLog(t *testing.T, dir string, log []byte) *Store {
	t.Helper()
	if log != nil {
		if err := os.WriteFile(filepath.Join(dir, walFile+".0"), log, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func closeStore(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// logPaste appends to log the record of a paste id holding contents.
func logPaste(t *testing.T, log []byte, id string, contents []byte) []byte {
	t.Helper()
	doc, err := paste.Marshal(&paste.Paste{Contents: contents})
	if err != nil {
		t.Fatal(err)
	}
	return wal.Append(log, wal.Record{ID: id, Doc: doc})
}

// TestLogReusedNotReplayed: a log file emptied keeps the records it held
// behind its end; a paste removed after its commit does not come back
// from them when the store opens again.
func TestLogReusedNotReplayed(t *testing.T) {
	dir := t.TempDir()
	s := mustOpenLog(t, dir, nil)
	mustCreate(t, s, &paste.Paste{ID: "kept", Contents: []byte("stays")})
	mustCreate(t, s, &paste.Paste{ID: "removed", Contents: []byte("goes")})
	logCommitted(t, s)
	if err := s.Remove(context.Background(), "removed", paste.Deleted); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	if n := logRecords(t, dir); n != 0 {
		t.Fatalf("the log after its commit: %d records", n)
	}
	var held int64
	for _, f := range []string{walFile + ".0", walFile + ".1"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		held = max(held, fi.Size())
	}
	if held < 100 {
		t.Fatalf("the log's files are %d bytes at most: nothing was left behind an end to test", held)
	}

	s = mustOpenLog(t, dir, nil)
	defer closeStore(t, s)
	mustGet(t, s, "kept")
	if _, err := s.Get(context.Background(), "removed"); !errors.Is(err, paste.ErrGone) {
		t.Errorf("removed: %v, want ErrGone", err)
	}
}

// TestLogCommittedAtClose: a clean stop commits what the log holds (the
// writer loop's last flush), so that the branch has every paste answered
// and the log is empty: a tool reading the repository, or a pasteur from
// before the log's header (docs/FORMAT.md), finds them there.
func TestLogCommittedAtClose(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		mustCreate(t, s, &paste.Paste{ID: "closed" + strconv.Itoa(i), Contents: []byte("answered before the stop")})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if k := logRecords(t, dir); k != 0 {
		t.Fatalf("the log after a clean stop: %d records, want 0", k)
	}
	s, err = Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		mustGet(t, s, "closed"+strconv.Itoa(i))
	}
}
