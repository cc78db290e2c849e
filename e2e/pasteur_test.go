package e2e

import (
	"cmp"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// metricsPort is where pasteur serves /metrics and the detailed /healthz
// in the tests.
const metricsPort = ":9100"

// pasteurRun says how startPasteur runs pasteur; bin and name are required.
type pasteurRun struct {
	bin    string
	name   string   // its log is name.log, shown if the test fails
	args   []string // after --tap and the README's addresses
	strace bool     // under strace, whose trace stop checks
	from   string   // the namespace that waits for it to serve; the bridge if ""
	port   string   // the port it serves on; "4343" if ""
	exits  bool     // it is expected to exit: wait for that instead
}

// pasteur is one run of the binary on tap100, in the bridge namespace.
type pasteur struct {
	bed    *testbed.Bed
	cmd    *exec.Cmd
	exited chan struct{} // closed once it has exited and cmd.ProcessState is set
	log    string        // its standard output and error
	trace  string        // strace's output; "" when not under strace
}

// startPasteur runs pasteur on tap100 with the README's addresses and
// waits until it accepts connections, or with r.exits until it exits.
// At cleanup it is killed, by pid, and its log shown if the test failed.
func startPasteur(t *testing.T, bed *testbed.Bed, r pasteurRun) *pasteur {
	t.Helper()
	args := append([]string{r.bin, "--tap", testbed.Tap, "--ipv4", testbed.TapAddr + testbed.Prefix,
		"--ipv4-gateway", testbed.BridgeAddr}, r.args...)
	if !slices.Contains(r.args, "--metrics-addr") {
		args = append(args, "--metrics-addr", testbed.TapAddr+metricsPort)
	}
	p := launch(t, bed, r.name, r.strace, args)
	if r.exits {
		select {
		case <-p.exited:
		case <-time.After(60 * time.Second):
			t.Fatal("pasteur did not exit")
		}
		return p
	}
	addr := testbed.TapAddr + ":" + cmp.Or(r.port, "4343")
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := bed.WaitTCP(cmp.Or(r.from, bed.Bridge), addr, time.Second)
		if err == nil {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("pasteur exited: %v", p.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
}

// launch runs argv in the bridge namespace (under strace with trace),
// its output to name.log; at cleanup it is killed, by pid, and its log
// shown if the test failed.
func launch(t *testing.T, bed *testbed.Bed, name string, trace bool, argv []string) *pasteur {
	t.Helper()
	dir := t.TempDir()
	p := &pasteur{bed: bed, exited: make(chan struct{}), log: filepath.Join(dir, name+".log")}
	if trace {
		p.trace = filepath.Join(dir, name+".strace")
		argv = append([]string{"strace", "-f", "-qq", "-e", "trace=socket,connect,bind,listen,openat", "-o", p.trace}, argv...)
	}
	p.cmd = bed.Command(bed.Bridge, argv...)
	logf := createFile(t, p.log)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := bed.Start(p.cmd); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, readFile(t, p.log))
		}
	})
	return p
}

// stop ends pasteur with SIGINT and, under strace, checks in the trace that
// it opened the TAP device and no AF_INET or AF_INET6 socket.
func (p *pasteur) stop(t *testing.T) {
	t.Helper()
	// To the group: strace blocks fatal signals when it runs a program.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Error("pasteur did not exit on SIGINT")
		p.kill()
	}
	if p.trace == "" {
		return
	}
	trace := readFile(t, p.trace)
	for _, line := range strings.Split(trace, "\n") {
		if strings.Contains(line, "AF_INET") || strings.Contains(line, "connect(") || strings.Contains(line, "bind(") {
			t.Errorf("TAP mode touched the host stack: %s", line)
		}
	}
	if !strings.Contains(trace, `"/dev/net/tun"`) {
		t.Errorf("strace did not see pasteur open /dev/net/tun: the trace proves nothing\n%s", trace)
	}
	t.Logf("strace saw %d socket calls", strings.Count(trace, "socket("))
}

// kill ends pasteur with SIGKILL, if it still runs, and waits for it.
func (p *pasteur) kill() {
	select {
	case <-p.exited:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}
