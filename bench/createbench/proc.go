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

// cpuTime is the CPU time (user and system) process pid has used so far,
// from /proc/PID/stat; 0 if it cannot be read.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is the unit of /proc/PID/stat's times (USER_HZ), 100 on
// Linux.
const clockTicks = 100
