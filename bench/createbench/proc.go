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

// daemonPID follows `ip netns exec` down to git daemon, whose children
// (the connections it serves) it does not follow.
func daemonPID(pid int) int {
	for {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) == "git-daemon" {
			return pid
		}
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		f := strings.Fields(string(kids))
		if len(f) == 0 {
			return pid
		}
		c, err := strconv.Atoi(f[0])
		if err != nil {
			return pid
		}
		pid = c
	}
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
func cpuTime(pid int) time.Duration { return procTimes(pid, false) }

// treeCPU is cpuTime with that of the children pid has waited for (git
// daemon's receive-packs and the processes they ran).
func treeCPU(pid int) time.Duration { return procTimes(pid, true) }

// procTimes reads the times of /proc/PID/stat, with children's or not.
func procTimes(pid int, children bool) time.Duration {
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
	var ticks int64
	fields := f[11:13]
	if children {
		fields = f[11:15]
	}
	for _, v := range fields {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// clockTicks is the unit of /proc/PID/stat's times (USER_HZ), 100 on
// Linux.
const clockTicks = 100
