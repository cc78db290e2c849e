package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// counters are what one server's side of the link reports: TCP segments
// sent again and frames dropped.
type counters struct {
	retrans uint64 // the server's TCP retransmits
	drops   uint64 // tap (netstack) or veth (kernel) drops, both ways, host side, and input queue drops
	bad     uint64 // frames the netstack dropped for a bad checksum
	werr    uint64 // frames the netstack failed to write
	fin     uint64 // frames the netstack read
	fout    uint64 // frames the netstack wrote
	bout    uint64 // their bytes
}

func (c counters) sub(o counters) counters {
	return counters{c.retrans - o.retrans, c.drops - o.drops, c.bad - o.bad, c.werr - o.werr, c.fin - o.fin, c.fout - o.fout, c.bout - o.bout}
}

func (c counters) add(o counters) counters {
	return counters{c.retrans + o.retrans, c.drops + o.drops, c.bad + o.bad, c.werr + o.werr, c.fin + o.fin, c.fout + o.fout, c.bout + o.bout}
}

func (c counters) String() string {
	s := fmt.Sprintf("%d retransmits, %d link drops", c.retrans, c.drops)
	if c.fout > 0 {
		s += fmt.Sprintf(", %d bad frames, %d write errors, frames in %d out %d (%.0f B each)", c.bad, c.werr, c.fin, c.fout, float64(c.bout)/float64(c.fout))
	}
	return s
}

// debugStats is the server's /debug/stats answer.
type debugStats struct {
	Netstack *struct {
		Retransmits, WriteErrors, BadFrames uint64
		FramesIn, FramesOut, BytesOut       uint64
	}
	HeapInuse, StackInuse, Sys uint64
	Goroutines                 int
}

// fetchStats reads the server's /debug/stats from inside its namespace.
func fetchStats(bed *testbed.Bed, t target, gc bool) (debugStats, error) {
	url := "http://" + debugAddr + "/debug/stats"
	if gc {
		url += "?gc=1"
	}
	var st debugStats
	out, err := bed.Run(t.ns, "curl", "-sS", "--fail", "-m", "10", url)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(out), &st)
}

// readCounters reads t's counters now.
func readCounters(bed *testbed.Bed, t target) (counters, error) {
	var c counters
	if strings.HasPrefix(t.name, "netstack") {
		st, err := fetchStats(bed, t, false)
		if err != nil {
			return c, err
		}
		if st.Netstack == nil {
			return c, fmt.Errorf("%s reports no netstack counters", t.name)
		}
		n := st.Netstack
		c.retrans, c.bad, c.werr = n.Retransmits, n.BadFrames, n.WriteErrors
		c.fin, c.fout, c.bout = n.FramesIn, n.FramesOut, n.BytesOut
	} else {
		snmp, err := bed.Run(t.ns, "cat", "/proc/net/snmp")
		if err != nil {
			return c, err
		}
		c.retrans = snmpField(snmp, "Tcp:", "RetransSegs")
	}
	d, err := linkDrops(bed, t.link)
	c.drops = d + softnetDrops()
	return c, err
}

// softnetDrops sums the packets the kernel dropped from its per-CPU input
// queues (the second column of /proc/net/softnet_stat, all namespaces).
func softnetDrops() uint64 {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return 0
	}
	var sum uint64
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			v, _ := strconv.ParseUint(f[1], 16, 64)
			sum += v
		}
	}
	return sum
}

// snmpField finds a field of /proc/net/snmp (a header line, then a value
// line, both starting with prefix).
func snmpField(snmp, prefix, field string) uint64 {
	var names []string
	for _, l := range strings.Split(snmp, "\n") {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		f := strings.Fields(l)[1:]
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == field && i < len(f) {
				v, _ := strconv.ParseUint(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}

// linkDrops sums the rx and tx drops of a link of the bridge namespace.
func linkDrops(bed *testbed.Bed, link string) (uint64, error) {
	var sum uint64
	for _, dir := range []string{"rx_dropped", "tx_dropped"} {
		out, err := bed.Run(bed.Bridge, "cat", "/sys/class/net/"+link+"/statistics/"+dir)
		if err != nil {
			return 0, err
		}
		v, _ := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
		sum += v
	}
	return sum, nil
}

// rssKB reads the resident memory of process pid, in KiB.
func rssKB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// peakRSS samples the resident memory of pid every 100 ms until stop is
// closed, and returns the highest value seen, in KiB.
func peakRSS(pid int, stop <-chan struct{}) <-chan int {
	res := make(chan int, 1)
	go func() {
		peak := 0
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if v, err := rssKB(pid); err == nil && v > peak {
				peak = v
			}
			select {
			case <-stop:
				res <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return res
}

// serverPID finds the pasteur process that cmd started: `ip netns exec`
// execs it in place, but look at its children too, in case it forked.
func serverPID(pid int) int {
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if strings.TrimSpace(string(comm)) == "pasteur" {
		return pid
	}
	kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, k := range strings.Fields(string(kids)) {
		if c, err := strconv.Atoi(k); err == nil {
			return serverPID(c)
		}
	}
	return pid
}

// rssSampler runs peakRSS for several pids at once.
type rssSampler struct {
	stop chan struct{}
	res  map[string]<-chan int
	once sync.Once
}

func sampleRSS(pids map[string]int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), res: map[string]<-chan int{}}
	for name, pid := range pids {
		s.res[name] = peakRSS(pid, s.stop)
	}
	return s
}

// peaks stops sampling and returns the peak of each process, in KiB.
func (s *rssSampler) peaks() map[string]int {
	s.once.Do(func() { close(s.stop) })
	out := map[string]int{}
	for name, c := range s.res {
		out[name] = <-c
	}
	return out
}

// cpuTime returns the CPU time process pid has used so far, user and
// system, from /proc/PID/stat (in clock ticks of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis (state is field 3, utime 14, stime 15).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	k, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return time.Duration(u+k) * 10 * time.Millisecond, nil
}

// childrenCPU returns the CPU time this process's waited-for children
// have used so far (wrk and the commands around it).
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
