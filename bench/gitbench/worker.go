package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/netstack"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/tap"
)

// result is what a worker prints, as JSON, on its standard output.
type result struct {
	Pastes    int     `json:"pastes"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	Errors    int     `json:"errors"`
	OpenSec   float64 `json:"open_seconds"`
	LocalMS   float64 `json:"local_ms"`      // mean Create without a remote (commit + fsync)
	LocalCPU  float64 `json:"local_cpu_ms"`  // CPU time per local Create
	LocalB    float64 `json:"local_bytes"`   // bytes the repository grows by per local Create, merges included
	WrittenB  float64 `json:"written_bytes"` // bytes a local Create that merges nothing writes
	RemoteMS  float64 `json:"remote_ms"`     // mean Create with the remote (commit + fsync + push)
	PushedB   float64 `json:"pushed_bytes"`  // bytes sent to the remote per Create with the remote
	DrainSec  float64 `json:"drain_seconds"` // throughput with -ack disk: from the last answer until all is pushed
	Pushes    uint64  `json:"pushes"`        // throughput: pushes that carried pastes
	CPUms     float64 `json:"cpu_ms"`        // throughput: CPU time a paste, from the first Create until all is pushed
}

// countingConn counts the bytes written to a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// worker runs inside the bridge namespace: it opens tap100 with pasteur's
// own stack and drives a gitsync.Store directly.
func worker(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	mode := fs.String("mode", "throughput", "throughput or cost")
	remote := fs.String("remote", "", "git URL")
	dir := fs.String("dir", "", "local repository")
	group := fs.Int("group", 0, "MaxGroup (1: one by one)")
	clients := fs.Int("clients", 64, "concurrent clients")
	n := fs.Int("n", 1000, "pastes at most")
	pushN := fs.Int("push-n", 100, "cost: pastes with the remote")
	warmN := fs.Int("warm", 10, "cost: untimed pastes before each measure")
	dur := fs.Duration("dur", 20*time.Second, "time at most")
	ack := fs.String("ack", "push", "when a Create is answered: push or disk")
	fs.Parse(args)

	dev, err := tap.Open("tap100")
	if err != nil {
		return err
	}
	defer dev.Close()
	mtu, _ := dev.MTU()
	st, err := netstack.New(dev, netstack.Config{
		Addr: netip.MustParsePrefix("10.0.0.3/24"), Gateway: netip.MustParseAddr("10.0.0.1"), MTU: mtu,
	})
	if err != nil {
		return err
	}
	defer st.Close()
	level := slog.LevelWarn
	if os.Getenv("GITBENCH_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx := context.Background()
	t0 := time.Now()
	var sent atomic.Int64
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := st.Dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c, &sent}, nil
	}
	cfg := gitsync.Config{Dir: *dir, Remote: *remote, Dial: dial, MaxGroup: *group, Logger: log}
	if *ack == "disk" {
		cfg.Ack = gitsync.AckDisk
	}
	if *mode == "cost" {
		// A push at 1M pastes takes seconds on a busy machine (the
		// remote's connectivity check): past the default 10 s, the store
		// would queue the pastes, and the rest of the round not try.
		cfg.AckTimeout = time.Minute
	}
	s, err := gitsync.Open(ctx, cfg)
	if err != nil {
		return err
	}
	var res result
	res.OpenSec = time.Since(t0).Seconds()
	// Each paste differs, as real ones do: identical contents would share
	// one blob per commit and make every push smaller than real.
	var seq atomic.Int64
	contents := func() []byte {
		return fmt.Appendf(nil, "package main\n\nfunc main() { println(\"hello, benchmark %d\") }\n", seq.Add(1))
	}

	if *mode == "throughput" {
		// A server at work, not one starting: the scan at start of the
		// pastes that expire reads every paste (a minute or more at 1M).
		for t := time.Now(); time.Since(t) < 5*time.Minute; time.Sleep(100 * time.Millisecond) {
			if !s.Status().Scanning {
				break
			}
		}
		res.OpenSec = time.Since(t0).Seconds()
	}
	if p := os.Getenv("GITBENCH_CPUPROFILE"); p != "" {
		f, err := os.Create(fmt.Sprintf("%s.%s-%d-%s", p, *mode, *group, filepath.Base(*dir)))
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	switch *mode {
	case "throughput":
		var next, done, failed atomic.Int64
		cpu0 := cpuTime()
		deadline := time.Now().Add(*dur)
		start := time.Now()
		var wg sync.WaitGroup
		for range *clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(*n) && time.Now().Before(deadline) {
					if err := s.Create(ctx, &paste.Paste{ID: randomID(), Contents: contents()}); err != nil {
						failed.Add(1)
						log.Error("create", "err", err)
						continue
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		res.Seconds = time.Since(start).Seconds()
		res.Pastes, res.Errors = int(done.Load()), int(failed.Load())
		res.PerSecond = float64(res.Pastes) / res.Seconds
		// With -ack disk, the pushes behind the log: until the remote
		// holds every answered paste (two minutes at most).
		t1 := time.Now()
		for st := s.Status(); (st.Queued > 0 || st.Unpushed) && time.Since(t1) < 2*time.Minute; st = s.Status() {
			time.Sleep(10 * time.Millisecond)
		}
		res.DrainSec = time.Since(t1).Seconds()
		res.Pushes = s.Counters().Pushes
		if res.Pastes > 0 {
			res.CPUms = float64((cpuTime() - cpu0).Microseconds()) / 1000 / float64(res.Pastes)
		}
		s.Close()
	case "cost":
		// Serial pastes with the remote, then without it on the same
		// repository.
		// A store's first pastes read the pack indexes it opened (go-git
		// builds its offset map of a pack at the first delta it
		// resolves: 0.4 s at 1M pastes); a few untimed pastes first
		// keep that out of the per-paste figures.
		warm := func(s *gitsync.Store) error {
			for range *warmN {
				if err := s.Create(ctx, &paste.Paste{ID: randomID(), Contents: contents()}); err != nil {
					return err
				}
			}
			return nil
		}
		mean := func(s *gitsync.Store, n *int) (float64, error) {
			start := time.Now()
			for range *n {
				if err := s.Create(ctx, &paste.Paste{ID: randomID(), Contents: contents()}); err != nil {
					return 0, err
				}
			}
			return float64(time.Since(start).Microseconds()) / 1000 / float64(*n), nil
		}
		if err := warm(s); err != nil {
			return err
		}
		sent.Store(0)
		if res.RemoteMS, err = mean(s, pushN); err != nil {
			return err
		}
		res.PushedB = float64(sent.Load()) / float64(*pushN)
		if *pushN > 0 && sent.Load() == 0 {
			// The store found the remote down and queued the pastes:
			// the figures with the remote would be those without it.
			return errors.New("cost: nothing was sent to the remote while pasting with it")
		}
		s.Close()
		local, err := gitsync.Open(ctx, gitsync.Config{Dir: *dir, Logger: log})
		if err != nil {
			return err
		}
		if err := warm(local); err != nil {
			return err
		}
		// Each paste alone: its time and CPU, and the bytes it adds to
		// the repository (a walk between pastes, out of the figures).
		// A paste that merges (files go) is left out of the bytes
		// written at commit; the growth over all of them is what stays.
		size0, files0 := dirSize(*dir)
		size, files := size0, files0
		var took, cpu time.Duration
		var written int64
		var commits int
		for range *n {
			t0, c0 := time.Now(), cpuTime()
			if err := local.Create(ctx, &paste.Paste{ID: randomID(), Contents: contents()}); err != nil {
				return err
			}
			took, cpu = took+time.Since(t0), cpu+cpuTime()-c0
			s, f := dirSize(*dir)
			if f >= files {
				written += s - size
				commits++
			}
			size, files = s, f
		}
		res.LocalMS = float64(took.Microseconds()) / 1000 / float64(*n)
		res.LocalCPU = float64(cpu.Microseconds()) / 1000 / float64(*n)
		res.LocalB = float64(size-size0) / float64(*n)
		res.WrittenB = float64(written) / float64(max(commits, 1))
		local.Close()
		res.Pastes = *n + *pushN
	default:
		return errors.New("unknown mode " + *mode)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// randomID is a new 13-character id, as pasteur makes them.
func randomID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 13)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gitbench: "+format+"\n", args...)
	os.Exit(1)
}

// cpuTime is the CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dirSize is the size of the files under dir, and their count.
func dirSize(dir string) (int64, int) {
	var n int64
	var files int
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
				files++
			}
		}
		return nil
	})
	return n, files
}
