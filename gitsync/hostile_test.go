package gitsync

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/internal/testlog"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
)

// Remotes that misbehave: a fake git server that sends what it is told, a
// proxy that can turn into a blackhole, a git daemon whose hook refuses.

// proxy forwards connections on loopback to target; blackholed, it accepts
// them and never answers. It counts the connections it accepts.
type proxy struct {
	ln     net.Listener
	target string
	black  atomic.Bool
	conns  atomic.Int64
	mu     sync.Mutex
	held   []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := (&netx.Host{}).Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.release() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			p.mu.Lock()
			p.held = append(p.held, c)
			p.mu.Unlock()
			if p.black.Load() {
				continue // accepted, never answered
			}
			go p.forward(c)
		}
	}()
	return p
}

func (p *proxy) forward(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
}

// release closes every connection it holds.
func (p *proxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
}

// url is the daemon's url, through the proxy.
func (p *proxy) url(daemonURL string) string {
	_, path, _ := strings.Cut(strings.TrimPrefix(daemonURL, "git://"), "/")
	return "git://" + p.ln.Addr().String() + "/" + path
}

// fakeRemote is a git:// server on loopback that advertises tip on master
// and answers every fetch with pack. It counts its connections.
func fakeRemote(t *testing.T, tip plumbing.Hash, pack []byte) (string, *atomic.Int64) {
	t.Helper()
	ln, err := (&netx.Host{}).Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go serveFake(c, tip, pack)
		}
	}()
	return "git://" + ln.Addr().String() + "/pastes.git", &conns
}

func serveFake(c net.Conn, tip plumbing.Hash, pack []byte) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	sc := pktline.NewScanner(bufio.NewReader(c))
	if !sc.Scan() {
		return
	}
	upload := strings.HasPrefix(string(sc.Bytes()), "git-upload-pack")
	enc := pktline.NewEncoder(c)
	enc.Encodef("%s refs/heads/master\x00ofs-delta report-status\n", tip)
	enc.Flush()
	if !upload {
		return
	}
	for sc.Scan() {
		if string(sc.Bytes()) == "done\n" {
			break
		}
	}
	enc.EncodeString("NAK\n")
	c.Write(pack)
}

// levels counts the records of a logger at warning level and above.
type levels struct {
	slog.Handler
	warns *atomic.Int64
}

func (h levels) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warns.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}
func (h levels) WithAttrs(a []slog.Attr) slog.Handler { return levels{h.Handler.WithAttrs(a), h.warns} }
func (h levels) WithGroup(n string) slog.Handler      { return levels{h.Handler.WithGroup(n), h.warns} }

// countWarnings makes the store count its warnings in n.
func countWarnings(t *testing.T, n *atomic.Int64) func(*Config) {
	return func(c *Config) { c.Logger = slog.New(levels{testlog.New(t).Handler(), n}) }
}

// rss returns the process's resident set and its peak, in MiB.
func rss() (now, peak int64) {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
			now = kb >> 10
		}
		if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			peak = kb >> 10
		}
	}
	return now, peak
}

// TestPackBombs: a remote that sends a pack beyond the limits, or one
// without the tip it advertises, is refused: the store opens on its local
// repository, says why in Status, keeps no file of the pack, and backs
// off (it keeps trying, but not at once). The peak RSS is logged.
func TestPackBombs(t *testing.T) {
	zeros := int64(16 << 20)
	if os.Getenv("PASTEUR_MEASURE") != "" {
		zeros = 1 << 30
	}
	tip := plumbing.NewHash("9238ae453de10dc85d6293a59e03bfe5696a6133")
	tests := []struct {
		name string
		pack func() []byte
	}{
		{"delta bomb", gittest.DeltaBomb},
		{"zeros", func() []byte { return gittest.ZeroBomb(zeros) }},
		// Objects of 8 MiB, just under the limit, in a tree of deltas
		// whose bases held at once pass the chain limit.
		{"deltas at the limits", func() []byte { return gittest.ChainBomb(8<<20, 3) }},
		{"without the tip", func() []byte { return gittest.ZeroBomb(100) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pack := tt.pack()
			url, conns := fakeRemote(t, tip, pack)
			_, before := rss()
			dir := t.TempDir()
			s, err := openDir(t, url, dir, quickRetry)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			waitFor(t, 10*time.Second, func() bool { return conns.Load() >= 3 })
			_, after := rss()
			t.Logf("%s: pack of %d bytes, fetched %d times; peak RSS %d MiB before, %d MiB after", tt.name, len(pack), conns.Load(), before, after)
			st := s.Status()
			if st.Reachable || st.Problem != ProblemBadPack || !strings.Contains(st.LastError, "pack refused") {
				t.Errorf("status: %+v", st)
			}
			mustCreate(t, s, &paste.Paste{ID: "queued", Contents: []byte("still served")})
			s.Close() // no fetch in flight
			left, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*"))
			tmp, _ := filepath.Glob(filepath.Join(dir, "objects", "tmp_*"))
			packs := 0
			for _, name := range left {
				// The queued paste's own pack is pasteur's.
				if strings.HasSuffix(name, ".pack") {
					packs++
				}
			}
			if packs > 1 || len(tmp) > 0 {
				t.Errorf("files of refused packs left: %v", append(left, tmp...))
			}
		})
	}
}

// TestRefusingRemote: a remote whose pre-receive hook refuses every push
// is not a lost race: pastes are queued, the store backs off, Status says
// refused with the remote's message, and the log warns once, not at every
// try.
func TestRefusingRemote(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	hook := "#!/bin/sh\necho 'pushes are closed: over quota' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, d.Addr)
	var warns atomic.Int64
	s := open(t, p.url(url), quickRetry, countWarnings(t, &warns))
	before := git(t, dir, "rev-parse", "master")
	mustCreate(t, s, &paste.Paste{ID: "refused", Contents: []byte("kept here")})
	n := p.conns.Load()
	waitFor(t, 10*time.Second, func() bool { return p.conns.Load() >= n+6 })
	st := s.Status()
	if st.Reachable || st.Problem != ProblemRefused || !strings.Contains(st.LastError, "over quota") || !st.Unpushed {
		t.Errorf("status: %+v", st)
	}
	if w := warns.Load(); w != 1 {
		t.Errorf("%d warnings, want 1 (once per state)", w)
	}
	if after := git(t, dir, "rev-parse", "master"); after != before {
		t.Error("the remote moved")
	}
	mustGet(t, s, "refused")

	// The hook relents: the queue lands.
	os.Remove(filepath.Join(dir, "hooks", "pre-receive"))
	waitFor(t, 10*time.Second, func() bool { return !s.Status().Unpushed })
	git(t, dir, "show", "master:"+pathOf(t, dir, "refused"))
}

// TestBlackhole: a remote that accepts connections and never answers
// delays no answer past AckTimeout: a paste is queued, also while a push
// of the queue is stuck in the blackhole; a read miss gives up soon; and
// each paste lands once when the remote answers again.
func TestBlackhole(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, dir := d.NewRepo(t, "pastes.git", true)
	p := startProxy(t, d.Addr)
	const ack = time.Second
	s := open(t, p.url(url), quickRetry, func(c *Config) { c.AckTimeout = ack })
	mustCreate(t, s, &paste.Paste{ID: "before", Contents: []byte("pushed")})

	p.black.Store(true)
	create := func(id string) {
		t.Helper()
		// Three times the promise: a Create that misses it is stuck.
		ctx, cancel := context.WithTimeout(context.Background(), 3*ack)
		defer cancel()
		if err := s.Create(ctx, &paste.Paste{ID: id, Contents: []byte(id)}); err != nil {
			t.Fatalf("Create %s with the remote in a blackhole: %v", id, err)
		}
	}
	create("first")
	// A push of the queue is now stuck in the blackhole.
	n := p.conns.Load()
	waitFor(t, 5*time.Second, func() bool { return p.conns.Load() > n })
	create("second")
	ctx, cancel := context.WithTimeout(context.Background(), 3*ack)
	defer cancel()
	if _, err := s.Get(ctx, "nosuchpaste00"); !errors.Is(err, paste.ErrUnavailable) || ctx.Err() != nil {
		t.Errorf("miss with the remote in a blackhole: %v (caller's context: %v)", err, ctx.Err())
	}

	p.black.Store(false)
	p.release()
	waitFor(t, 20*time.Second, func() bool { return !s.Status().Unpushed })
	for _, id := range []string{"before", "first", "second"} {
		git(t, dir, "show", "master:"+pathOf(t, dir, id))
	}
	if n := strings.Count(git(t, dir, "log", "--format=%s", "master"), "\n"); n > 4 {
		t.Errorf("%d commits on the remote, want at most 4 (initial, before, first, second)", n)
	}
}

// TestReadBackLimit: a paste stored by a server with a larger limit is
// not read by one with a smaller: Get says ErrTooLarge (a 500 that says
// so, on the website), and other pastes are served.
func TestReadBackLimit(t *testing.T) {
	d := gittest.StartDaemon(t)
	url, _ := d.NewRepo(t, "pastes.git", true)
	big := open(t, url)
	mustCreate(t, big, &paste.Paste{ID: "large", Contents: []byte(strings.Repeat("x", 300<<10))})
	mustCreate(t, big, &paste.Paste{ID: "small", Contents: []byte("x")})
	s := open(t, url, func(c *Config) { c.MaxSize = 16 << 10 })
	if _, err := s.Get(context.Background(), "large"); !errors.Is(err, paste.ErrTooLarge) {
		t.Errorf("Get of a paste over the limit: %v, want ErrTooLarge", err)
	}
	mustGet(t, s, "small")
}
