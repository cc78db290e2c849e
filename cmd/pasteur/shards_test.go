package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServeRefusesShardsBeyond: serve refuses, before it listens or opens
// a repository, a --data that holds shards its --shards would not look in
// (their pastes would answer 404), naming the shard and the --shards it
// needs; fewer shard directories than --shards (growing) pass.
func TestServeRefusesShardsBeyond(t *testing.T) {
	// The port is held: a serve that listened before refusing would fail
	// on it instead.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		name   string
		dirs   []string // under --data
		args   []string
		want   []string // in the error
		refuse bool
	}{
		{"restarted without --shards", []string{"shard-1", "shard-2"}, nil,
			[]string{"shard 2", "shard-2", "--shards 1", "--shards 3"}, true},
		{"restarted with fewer", []string{"shard-1", "shard-2", "shard-3"}, []string{"--shards", "2", "--remote", "git://127.0.0.1:1/p-{shard}.git"},
			[]string{"shard 3", "shard-3", "--shards 2", "--shards 4"}, true},
		{"past shard-9", []string{"shard-1", "shard-10", "shard-2"}, []string{"--shards", "4", "--remote", "git://127.0.0.1:1/p-{shard}.git"},
			[]string{"shard 10", "--shards 11"}, true},
		{"not a shard's name", []string{"shard-01", "shard-x"}, nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range tc.dirs {
				if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"--port", port, "--data", dir}, tc.args...)
			cfg, err := parseServeFlags(args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			err = serve(ctx, cfg, &bytes.Buffer{})
			if !tc.refuse {
				// Past the check, serve fails on the held port.
				if err == nil || !strings.Contains(err.Error(), "listen") {
					t.Fatalf("serve: %v; want the held port's error", err)
				}
				return
			}
			if err == nil {
				t.Fatal("serve: nil error; want a refusal")
			}
			for _, w := range append(tc.want, dir) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("serve: %v; want %q in it", err, w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
				t.Errorf("serve opened %s before refusing it", dir)
			}
		})
	}
}

// TestShardsGrow: --data with fewer shard directories than --shards
// passes the check (they are made when opened); checkShardDirs, for the
// operator's delete, wants them all.
func TestShardsGrow(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(shardDir(dir, 1), 0o700); err != nil {
		t.Fatal(err)
	}
	for n := 2; n <= 4; n++ {
		if err := checkNoShardsBeyond(dir, n); err != nil {
			t.Errorf("checkNoShardsBeyond(%d) with shard 1: %v", n, err)
		}
	}
	if err := checkNoShardsBeyond(dir, 1); err == nil {
		t.Error("checkNoShardsBeyond(1) with shard 1: nil")
	}
	if err := checkShardDirs(dir, 3); err == nil {
		t.Error("checkShardDirs(3) without shard 2: nil")
	}
	if err := checkNoShardsBeyond("", 1); err != nil {
		t.Errorf("in memory: %v", err)
	}
}
