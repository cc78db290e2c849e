// Package machine describes the machine a benchmark runs on, for the
// figures it prints and BENCHMARKS.md.
package machine

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Hardware names the machine: its cores and CPU model.
func Hardware() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, model, _ = strings.Cut(l, ": ")
				break
			}
		}
	}
	out, _ := exec.Command("nproc").Output()
	return fmt.Sprintf("%s cores of %s", strings.TrimSpace(string(out)), model)
}

// LoadAvg is the machine's load average (1, 5, 15 minutes), to say how
// busy it was during the run.
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
