package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// serverPID follows `ip netns exec` (and env) down to the server process.
func serverPID(pid int) int {
	kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, k := range strings.Fields(string(kids)) {
		if c, err := strconv.Atoi(k); err == nil {
			return serverPID(c)
		}
	}
	return pid
}

// statusKB reads a "Name: N kB" line of /proc/PID/status.
func statusKB(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// startProfile fetches a CPU profile of d from the debug address addr in ns
// into file, in the background; wait returns once it is written.
func startProfile(bed *testbed.Bed, ns, addr string, d time.Duration, file string) (wait func() error) {
	secs := max(int(d/time.Second), 1)
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs)
	errc := make(chan error, 1)
	go func() {
		_, err := bed.Run(ns, "curl", "-sS", "--fail", "-m", fmt.Sprint(secs+30), "-o", file, url)
		errc <- err
	}()
	return func() error { return <-errc }
}
