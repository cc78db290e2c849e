package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// idleClient is the hidden helper mode (-idle-client URL): it opens n
// keep-alive connections to the URL's host, makes one GET on each, prints
// "ready", and holds them open until its standard input closes or hold
// passes. netbench runs it in the bridge namespace.
func idleClient(rawURL string, n int, hold time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(hold)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.RequestURI(), u.Host)
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			return fmt.Errorf("connection %d: status %d, close %v", i, resp.StatusCode, resp.Close)
		}
		c.SetDeadline(time.Time{})
	}
	fmt.Printf("ready %d\n", len(conns))
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
	}
	return nil
}

// idleResult is the memory that n idle keep-alive connections cost a
// server.
type idleResult struct {
	n                   int
	rssDelta, heapDelta int64 // bytes; heap counts goroutine stacks too
	goroutines          int   // added
}

// measureIdle holds n idle connections to url from the bridge namespace
// and reads the server's memory before and while they are open.
func measureIdle(bed *testbed.Bed, t target, pid int, url string, n int) (idleResult, error) {
	r := idleResult{n: n}
	before, err := fetchStats(bed, t, true)
	if err != nil {
		return r, err
	}
	rss0, err := rssKB(pid)
	if err != nil {
		return r, err
	}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	cmd := bed.Command(bed.Bridge, self, "-idle-client", url, "-idle-n", strconv.Itoa(n), "-idle-hold", "60s")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return r, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	cmd.Stderr = os.Stderr
	if err := bed.Start(cmd); err != nil {
		return r, err
	}
	defer func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			bed.Stop(cmd)
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		return r, fmt.Errorf("idle client: %q, %v", line, err)
	}
	time.Sleep(time.Second)
	after, err := fetchStats(bed, t, true)
	if err != nil {
		return r, err
	}
	rss1, err := rssKB(pid)
	if err != nil {
		return r, err
	}
	r.rssDelta = int64(rss1-rss0) * 1024
	r.heapDelta = int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)
	r.goroutines = after.Goroutines - before.Goroutines
	return r, nil
}
