package gitsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
)

// originalRepo makes, with git fast-import, a bare repository as the
// git-era original wrote it: every paste a file at the root named by its
// id, committed by "Git KV". files maps names to contents.
func originalRepo(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "master", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	var in bytes.Buffer
	fmt.Fprintf(&in, "commit refs/heads/master\ncommitter Git KV <git-noreply@robur.coop> 1700000000 +0000\ndata 20\nCommitted by git-kv\n")
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", n, len(files[n]), files[n])
	}
	cmd := exec.Command("git", "--git-dir="+dir, "fast-import", "--quiet")
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v %s", err, out)
	}
}

func lsTree(t testing.TB, dir string) []string {
	t.Helper()
	out, err := exec.Command("git", "--git-dir="+dir, "ls-tree", "-r", "--name-only", "master").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))
}

func TestMigrate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	doc := func(s string) string { return `{"contents":"` + s + `","encrypted":false}` }
	files := map[string]string{
		"AbC": doc("git era"), "x_-": doc("newest alphabet"), "-ab": doc("dash first"), "q": doc("one character"),
		"qrs": doc("under q"), "Z": doc("another one"), "README": "not a paste", "_": doc("underscore"),
	}
	originalRepo(t, dir, files)
	before := strings.TrimSpace(gitOut(t, dir, "rev-parse", "master"))
	m, err := Migrate(dir, "", time.Unix(1800000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if m.Moved != 7 || m.Kept != 0 || m.Commit.IsZero() {
		t.Fatalf("%+v", m)
	}
	want := []string{"-/a/-ab", "A/b/AbC", "README", "_/Z", "_/_", "_/q", "q/r/qrs", "x/_/x_-"}
	if got := lsTree(t, dir); !slices.Equal(got, want) {
		t.Fatalf("tree %v, want %v", got, want)
	}
	// Same blobs, one commit on top, by pasteur.
	if out := gitOut(t, dir, "diff", "-M100%", "--name-status", before, "master"); strings.Count(out, "R100") != 7 {
		t.Errorf("not pure renames:\n%s", out)
	}
	if parent := strings.TrimSpace(gitOut(t, dir, "rev-parse", "master^")); parent != before {
		t.Errorf("parent %s, want %s", parent, before)
	}
	gitOut(t, dir, "fsck", "--strict")

	s, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, c := range files {
		if id == "README" {
			continue
		}
		p, err := s.Get(context.Background(), id)
		if err != nil || `{"contents":"`+string(p.Contents)+`","encrypted":false}` != c {
			t.Errorf("Get(%s) = %v, %v", id, p, err)
		}
	}
	s.Close()

	// Again: nothing to move.
	if m, err := Migrate(dir, "", time.Now()); err != nil || m.Moved != 0 || !m.Commit.IsZero() {
		t.Errorf("second run: %+v, %v", m, err)
	}
}

func TestMigrateRefuses(t *testing.T) {
	if _, err := Migrate(t.TempDir(), "", time.Now()); err == nil {
		t.Error("an empty directory was migrated")
	}
	dir := filepath.Join(t.TempDir(), "repo")
	originalRepo(t, dir, map[string]string{"abc": `{"contents":"x","encrypted":false}`})
	// A queue: the branch is ahead of the remote-tracking ref.
	head := strings.TrimSpace(gitOut(t, dir, "rev-parse", "master"))
	gitOut(t, dir, "update-ref", "refs/remotes/origin/master", head)
	gitOut(t, dir, "update-ref", "refs/heads/master", strings.TrimSpace(gitOut(t, dir, "commit-tree", "-p", head, "-m", "queued", head+"^{tree}")))
	if _, err := Migrate(dir, "", time.Now()); !errors.Is(err, ErrQueued) {
		t.Errorf("with a queue: %v, want ErrQueued", err)
	}
}

func gitOut(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"--git-dir=" + dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v %s", args, err, out)
	}
	return string(out)
}

// TestMigrateCost measures, at PASTEUR_MEASURE=N flat pastes (10000 for
// the figures in BENCHMARKS.md), what reads and writes cost in the
// original's flat layout and after Migrate, in alternating rounds on two
// copies. Reads go to the Store, not through paste.Cache. It prints
// figures and asserts none.
func TestMigrateCost(t *testing.T) {
	n := 0
	fmt.Sscan(os.Getenv("PASTEUR_MEASURE"), &n)
	if n == 0 {
		t.Skip("set PASTEUR_MEASURE=10000 to measure")
	}
	files := map[string]string{}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var ids []string
	for len(files) < n {
		id := []byte{alphabet[rng.IntN(62)], alphabet[rng.IntN(62)], alphabet[rng.IntN(62)], alphabet[rng.IntN(62)]}
		if files[string(id)] == "" {
			files[string(id)] = fmt.Sprintf(`{"contents":"paste %d\n","encrypted":false}`, len(ids))
			ids = append(ids, string(id))
		}
	}
	flat, migrated := filepath.Join(t.TempDir(), "flat"), filepath.Join(t.TempDir(), "migrated")
	originalRepo(t, flat, files)
	originalRepo(t, migrated, files)
	start := time.Now()
	m, err := Migrate(migrated, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("migrate   %d moved, %d kept, in %.0f ms", m.Moved, m.Kept, ms(time.Since(start)))
	measure := func(label, dir string, round int) {
		ctx := context.Background()
		start := time.Now()
		s, err := Open(ctx, Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		open := time.Since(start)
		start = time.Now()
		if _, err := s.Get(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		first := time.Since(start)
		const reads = 2000
		start = time.Now()
		for i := range reads {
			if _, err := s.Get(ctx, ids[(i*7919)%len(ids)]); err != nil {
				t.Fatal(err)
			}
		}
		warm := time.Since(start) / reads
		// A write changes the root: the read after it decodes the new one.
		const writes = 20
		var create, after time.Duration
		rootBytes := 0
		for i := range writes {
			id := fmt.Sprintf("w%d%011d", round, i)
			start = time.Now()
			if err := s.Create(ctx, &paste.Paste{ID: id, Contents: []byte("x")}); err != nil {
				t.Fatal(err)
			}
			create += time.Since(start)
			start = time.Now()
			if _, err := s.Get(ctx, ids[(i*104729)%len(ids)]); err != nil {
				t.Fatal(err)
			}
			after += time.Since(start)
		}
		out := gitOut(t, dir, "cat-file", "-s", "master^{tree}")
		fmt.Sscan(out, &rootBytes)
		t.Logf("%-9s open %7.1f ms | first read %7.2f ms | warm read %6.1f µs | read after a write %7.1f µs | write %6.2f ms | root tree %7d bytes",
			label, ms(open), ms(first), float64(warm.Nanoseconds())/1e3, float64((after/writes).Nanoseconds())/1e3, ms(create/writes), rootBytes)
	}
	// Alternating rounds, so that the machine's noise hits both alike.
	for round := range 3 {
		measure("flat", flat, round)
		measure("migrated", migrated, round)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
