package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/paste"
)

// storeRate drives a gitsync.Store directly (ack: push or disk), as bench/gitbench does, from c
// clients on the host's sockets (socket mode's dialer) for d or n pastes of
// size bytes, and prints a loadResult: the rate the HTTP figures are
// compared with.
func storeRate(remote, dir, ack string, c, size, n int, d time.Duration, profile string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slogLevel()}))
	ctx := context.Background()
	cfg := gitsync.Config{Dir: dir, Remote: remote, Dial: (&net.Dialer{}).DialContext, Logger: log}
	if ack == "disk" {
		cfg.Ack = gitsync.AckDisk
	}
	s, err := gitsync.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	var seq, next, done, failed atomic.Int64
	seq.Store(time.Now().UnixNano() % 1e9 * 1000)
	var firstErr atomic.Value
	fmt.Println(readyLine) // the git daemon's CPU is counted from here
	deadline := time.Now().Add(d)
	start := time.Now()
	cpu0 := cpuTime(os.Getpid()) // after Open: its fetch and replay are not the creates'

	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && time.Now().Before(deadline) {
				id, err := paste.NewID(paste.DefaultIDLength)
				if err == nil {
					err = s.Create(ctx, &paste.Paste{ID: id, Contents: pasteText(seq.Add(1), size)})
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	r := loadResult{Creates: int(done.Load()), Errors: int(failed.Load()), Seconds: time.Since(start).Seconds(),
		CPU: (cpuTime(os.Getpid()) - cpu0).Microseconds()}
	if s, ok := firstErr.Load().(string); ok {
		r.First = s
	}
	s.Close()
	return json.NewEncoder(os.Stdout).Encode(r)
}

// slogLevel is the store's log level: debug (a line per group) with
// CREATEBENCH_DEBUG set.
func slogLevel() slog.Level {
	if os.Getenv("CREATEBENCH_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
