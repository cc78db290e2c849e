package main

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/netx"
)

// daemon is a git daemon on loopback serving the repositories of a
// directory, pushes allowed.
type daemon struct {
	addr string
	cmd  *exec.Cmd
}

// startDaemon runs git-daemon (itself, not "git daemon", so that its pid
// is the server's) on a free loopback port, serving base.
func startDaemon(base string) *daemon {
	host := &netx.Host{}
	l, err := host.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("%v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		fatalf("git --exec-path: %v", err)
	}
	d := &daemon{addr: "127.0.0.1:" + strconv.Itoa(port)}
	d.cmd = exec.Command(filepath.Join(strings.TrimSpace(string(execPath)), "git-daemon"), "--base-path="+base, "--export-all",
		"--enable=receive-pack", "--reuseaddr", "--listen=127.0.0.1", "--port="+strconv.Itoa(port))
	if err := d.cmd.Start(); err != nil {
		fatalf("git daemon: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := host.Dial(context.Background(), "tcp", d.addr)
		if err == nil {
			c.Close()
			return d
		}
		if time.Now().After(deadline) {
			d.kill()
			fatalf("git daemon does not answer: %v", err)
		}
	}
}

// kill stops the daemon by its pid and waits for it; again, or on a
// daemon never started, it does nothing.
func (d *daemon) kill() {
	if d.cmd != nil && d.cmd.ProcessState == nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
	}
}
