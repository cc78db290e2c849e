package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	gittransport "github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/netx"
)

var master = plumbing.NewBranchReferenceName("master")

// dial reaches loopback through the host's sockets.
var dial = DialFunc((&netx.Host{}).Dial)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// newCommit makes a commit on master's tip in a copy of the bare
// repository dir, and returns it with the pack git sends for it.
func newCommit(t *testing.T, dir string) (old, tip plumbing.Hash, pack []byte) {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work.git")
	gittest.Run(t, "", "clone", "--quiet", "--bare", dir, work)
	oldHex := strings.TrimSpace(gittest.Git(t, work, "rev-parse", "master"))
	blob := strings.TrimSpace(gittest.Run(t, "a paste\n", "--git-dir="+work, "hash-object", "-w", "--stdin"))
	tree := strings.TrimSpace(gittest.Run(t, "100644 blob "+blob+"\tpaste\n", "--git-dir="+work, "mktree"))
	tipHex := strings.TrimSpace(gittest.Git(t, work, "commit-tree", "-p", oldHex, "-m", "a commit", tree))
	pack = []byte(gittest.Run(t, tipHex+"\n^"+oldHex+"\n", "--git-dir="+work, "pack-objects", "--stdout", "--revs", "-q"))
	return plumbing.NewHash(oldHex), plumbing.NewHash(tipHex), pack
}

// roundTrip fetches the branch of the bare repository dir through r, then
// pushes a commit onto it, and a stale one that the remote refuses.
func roundTrip(t *testing.T, r *Remote, dir string) {
	t.Helper()
	f, err := r.Fetch(ctx(t))
	if err != nil {
		t.Fatal("fetch:", err)
	}
	tip, err := f.Tip(master)
	if want := strings.TrimSpace(gittest.Git(t, dir, "rev-parse", "master")); err != nil || tip.String() != want {
		t.Fatalf("advertised tip %s %v, want %s", tip, err, want)
	}
	rd, _, err := f.Pack(ctx(t), []plumbing.Hash{tip}, nil, PackOptions{})
	if err != nil {
		t.Fatal("pack:", err)
	}
	pack, err := io.ReadAll(rd)
	rd.Close()
	f.Close()
	if err != nil || !bytes.HasPrefix(pack, []byte("PACK")) {
		t.Fatalf("fetched %d bytes (%.8q), %v", len(pack), pack, err)
	}

	old, next, pack := newCommit(t, dir)
	p, err := r.Push(ctx(t))
	if err != nil {
		t.Fatal("push:", err)
	}
	if got, err := p.Tip(master); err != nil || got != old {
		t.Fatalf("push advertises %s %v, want %s", got, err, old)
	}
	if err := p.Send(ctx(t), master, old, next, pack); err != nil {
		t.Fatal("send:", err)
	}
	p.Close()
	if got := strings.TrimSpace(gittest.Git(t, dir, "rev-parse", "master")); got != next.String() {
		t.Fatalf("remote at %s after the push, want %s", got, next)
	}

	// A push from a stale tip: the remote moved, and refuses the update
	// (the caller tells the race by the remote's references).
	_, stale, pack := newCommit(t, dir)
	p, err = r.Push(ctx(t))
	if err != nil {
		t.Fatal("push:", err)
	}
	defer p.Close()
	if err := p.Send(ctx(t), master, old, stale, pack); !errors.Is(err, ErrRefused) {
		t.Errorf("stale push: %v, want ErrRefused", err)
	}
}

func TestGitProtocol(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "r.git", true)
	r, err := New(url, dial, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, r, dir)

	r, _ = New("git://"+d.Addr+"/nosuch.git", dial, Auth{})
	if _, err := r.Fetch(ctx(t)); !errors.Is(err, gittransport.ErrRepositoryNotFound) || !Permanent(err) {
		t.Errorf("missing repository: %v", err)
	}
	url, _ = d.NewRepo(t, "empty.git", false)
	r, _ = New(url, dial, Auth{})
	if _, err := r.Fetch(ctx(t)); !errors.Is(err, ErrNoBranch) {
		t.Errorf("empty repository: %v", err)
	}
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		url  string
		auth Auth
		want string
	}{
		{"file:///srv/r.git", Auth{}, "not supported"},
		{"ssh://git@h/r.git", Auth{}, "needs a key"},
		{"https://bob:s3cret@h/r.git", Auth{}, ""},
	} {
		r, err := New(tt.url, dial, tt.auth)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("New(%s): %v, want %q", tt.url, err, tt.want)
		}
		if r != nil && strings.Contains(r.Name(), "s3cret") {
			t.Errorf("the name shows the password: %s", r.Name())
		}
	}
	if _, err := New("git://h/r.git", nil, Auth{}); err == nil {
		t.Error("no dial function accepted")
	}
}

// TestThin: a pack may be thin unless the remote says no-thin.
func TestThin(t *testing.T) {
	for caps, want := range map[string]bool{
		"report-status delete-refs side-band-64k ofs-delta": true,
		"report-status no-thin ofs-delta":                   false,
	} {
		adv := packp.NewAdvRefs()
		if err := adv.Capabilities.Decode([]byte(caps)); err != nil {
			t.Fatal(err)
		}
		if got := (&Push{adv: adv}).Thin(); got != want {
			t.Errorf("%q: Thin %v, want %v", caps, got, want)
		}
	}
}
