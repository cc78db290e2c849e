package e2e

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CPU accounting of the processes a test started, for figures such as
// the CPU per create of every process behind a load: a process's CPU is
// its own, its live descendants' and what it reaped of its children (git
// daemon's upload-packs and receive-packs, and what they ran), read from
// /proc.

// procCPU names a process whose CPU is counted.
type procCPU struct {
	name string
	pid  int
}

// cpuSample is the CPU used so far by each of a set of processes (with
// their descendants), and the machine's busy and idle time.
type cpuSample struct {
	at         time.Time
	procs      []time.Duration
	busy, idle time.Duration
}

// sampleCPU reads the CPU used so far by each of procs and by the machine.
func sampleCPU(procs []procCPU) cpuSample {
	s := cpuSample{at: time.Now()}
	kids := childrenOf()
	for _, p := range procs {
		s.procs = append(s.procs, treeTimes(p.pid, kids))
	}
	s.busy, s.idle = machineTimes()
	return s
}

// treeTimes is the CPU time of pid, of its live descendants, and of the
// children they reaped (cutime and cstime of /proc/PID/stat): a child
// counted live at one sample and reaped by the next is counted in its
// parent's then, so differences of two samples hold.
func treeTimes(pid int, kids map[int][]int) time.Duration {
	d := statTimes(pid)
	for _, k := range kids[pid] {
		d += treeTimes(k, kids)
	}
	return d
}

// childrenOf maps each process to its children, from /proc/*/stat.
func childrenOf() map[int][]int {
	kids := make(map[int][]int)
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		f := statFields(pid)
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		kids[ppid] = append(kids[ppid], pid)
	}
	return kids
}

// statFields returns the fields of /proc/PID/stat after the command name
// (state, ppid, ...), nil if it cannot be read.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.Fields(rest)
}

// statTimes is utime+stime+cutime+cstime of /proc/PID/stat; 0 if it
// cannot be read.
func statTimes(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, v := range f[11:15] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return ticksToDuration(ticks)
}

// machineTimes reads the first line of /proc/stat: the time every CPU
// spent busy (user, nice, system, irq, softirq, steal) and idle (idle,
// iowait).
func machineTimes() (busy, idle time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:min(len(f), 9)] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i == 3 || i == 4 {
			idle += ticksToDuration(n)
		} else {
			busy += ticksToDuration(n)
		}
	}
	return busy, idle
}

// ticksToDuration converts USER_HZ ticks (100 a second on Linux).
func ticksToDuration(n int64) time.Duration { return time.Duration(n) * time.Second / 100 }

// cpuReport formats the CPU each process used between a and b (and
// extra, processes measured apart such as a load generator that ended),
// per create of creates, and the machine's busy and idle time.
func cpuReport(title string, procs []procCPU, a, b cpuSample, extra map[string]time.Duration, creates int) string {
	var w strings.Builder
	wall := b.at.Sub(a.at)
	fmt.Fprintf(&w, "CPU, %s: %.1f s of wall time, %d creates\n", title, wall.Seconds(), creates)
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(creates, 1)) }
	var total time.Duration
	row := func(name string, d time.Duration) {
		total += d
		fmt.Fprintf(&w, "  %-22s %7.2f s %8.1f us/create\n", name, d.Seconds(), per(d))
	}
	for i, p := range procs {
		row(p.name, b.procs[i]-a.procs[i])
	}
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		row(n, extra[n])
	}
	busy, idle := b.busy-a.busy, b.idle-a.idle
	fmt.Fprintf(&w, "  %-22s %7.2f s %8.1f us/create\n", "total of these", total.Seconds(), per(total))
	fmt.Fprintf(&w, "  machine: busy %.2f s (the rest: %.2f s, other work and kernel), idle %.2f s (%.0f%% of the cores' time)\n",
		busy.Seconds(), (busy - total).Seconds(), idle.Seconds(), 100*idle.Seconds()/max((busy+idle).Seconds(), 1e-9))
	return w.String()
}
