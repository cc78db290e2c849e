package main

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync"
)

// TestDataInUse: serve, delete --data and migrate refuse a data
// directory that another pasteur has open, saying which and what to do.
func TestDataInUse(t *testing.T) {
	dir := t.TempDir()
	holder, err := gitsync.Open(t.Context(), gitsync.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	want := []string{dir, "in use by another pasteur process", "pid", "--data"}

	// A free port for the second server, which listens before it opens
	// the store.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg, err := parseServeFlags([]string{"--port", strconv.Itoa(port), "--data", dir}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	// Were it not refused, it would serve until ctx ends.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err = serve(ctx, cfg, &bytes.Buffer{})
	if err == nil {
		t.Fatal("serve: nil error; want the directory in use")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("serve: %v; want %q in it", err, w)
		}
	}
	for _, args := range [][]string{{"delete", "--data", dir, "one"}, {"migrate", "--data", dir}} {
		code, _, errs := runCmd("", args...)
		if code != exitRuntime {
			t.Errorf("%s: exit %d; want %d", args[0], code, exitRuntime)
		}
		for _, w := range want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: %q; want %q in it", args[0], errs, w)
			}
		}
	}
}
