// Package testbed builds, on this machine, the network pasteur is deployed
// on: a "bridge" network namespace holding br1 (10.0.0.1/24 and
// fd00::1/64) with tap100 enslaved to it, as the operator's scripts/tap.sh does, plus optional hosts
// in namespaces of their own linked to the bridge by veth pairs. End-to-end
// tests and benchmarks use it; every command runs inside the namespaces it
// made, never in the root namespace, and Close removes them and kills the
// processes it started, by pid. StartDnsmasq adds the DHCP server, router
// advertiser and DNS server of a network that configures its hosts.
//
// It needs root and /dev/net/tun.
package testbed

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The addresses of the deployment in the README.
const (
	BridgeAddr = "10.0.0.1" // br1, the gateway, where git daemon listens
	TapAddr    = "10.0.0.3" // pasteur on its userspace stack
	Prefix     = "/24"
	Tap        = "tap100"

	BridgeAddr6 = "fd00::1" // br1's IPv6 address
	TapAddr6    = "fd00::3" // pasteur's static IPv6 address
	Prefix6     = "/64"
)

// Bed is one topology. Its namespaces are named after a prefix unique to
// the process, so concurrent runs do not collide.
type Bed struct {
	Bridge string // the bridge namespace: br1, tap100, and the peers

	prefix string
	mu     sync.Mutex
	ns     []string
	procs  []*exec.Cmd
}

// Check reports why this machine cannot build a Bed, or nil if it can.
func Check() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces and TAP devices)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("needs /dev/net/tun: %w", err)
	}
	for _, cmd := range []string{"ip"} {
		if _, err := exec.LookPath(cmd); err != nil {
			return fmt.Errorf("needs %s: %w", cmd, err)
		}
	}
	return nil
}

// New builds the bridge namespace with br1 at BridgeAddr and BridgeAddr6
// and tap100 in it.
// name distinguishes beds made by one process.
func New(name string) (*Bed, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	b := &Bed{prefix: fmt.Sprintf("pst%d%s", os.Getpid(), name)}
	b.Bridge = b.prefix + "-br"
	if err := b.addNS(b.Bridge); err != nil {
		return nil, err
	}
	steps := [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "add", "br1", "type", "bridge"},
		{"ip", "addr", "add", BridgeAddr + Prefix, "dev", "br1"},
		// nodad: usable at once, for peers that bind to it.
		{"ip", "-6", "addr", "add", BridgeAddr6 + Prefix6, "dev", "br1", "nodad"},
		{"ip", "link", "set", "br1", "up"},
		{"ip", "tuntap", "add", "dev", Tap, "mode", "tap"},
		{"ip", "link", "set", Tap, "master", "br1"},
		{"ip", "link", "set", Tap, "up"},
	}
	for _, s := range steps {
		if _, err := b.Run(b.Bridge, s...); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// AddHost makes a namespace linked to br1 by a veth pair, with addr (CIDR)
// on its end, and returns the namespace's name.
func (b *Bed) AddHost(name, addr string) (string, error) {
	ns := b.prefix + "-" + name
	if err := b.addNS(ns); err != nil {
		return "", err
	}
	// Link names are at most 15 bytes.
	here, there := "vb"+name, "vh"+name
	steps := []struct {
		ns   string
		args []string
	}{
		{b.Bridge, []string{"ip", "link", "add", here, "type", "veth", "peer", "name", there, "netns", ns}},
		{b.Bridge, []string{"ip", "link", "set", here, "master", "br1"}},
		{b.Bridge, []string{"ip", "link", "set", here, "up"}},
		{ns, []string{"ip", "link", "set", "lo", "up"}},
		{ns, []string{"ip", "addr", "add", addr, "dev", there}},
		{ns, []string{"ip", "link", "set", there, "up"}},
	}
	for _, s := range steps {
		if _, err := b.Run(s.ns, s.args...); err != nil {
			return "", err
		}
	}
	return ns, nil
}

func (b *Bed) addNS(ns string) error {
	if _, err := run("ip", "netns", "add", ns); err != nil {
		return err
	}
	b.mu.Lock()
	b.ns = append(b.ns, ns)
	b.mu.Unlock()
	return nil
}

// Command returns a command that runs inside namespace ns.
func (b *Bed) Command(ns string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
}

// Run runs a command inside ns and returns its standard output.
func (b *Bed) Run(ns string, args ...string) (string, error) {
	return run("ip", append([]string{"netns", "exec", ns}, args...)...)
}

// Start starts cmd and remembers it, so that Close kills it.
func (b *Bed) Start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	b.mu.Lock()
	b.procs = append(b.procs, cmd)
	b.mu.Unlock()
	return nil
}

// Stop kills a command started with Start (its whole process group) and
// waits for it.
func (b *Bed) Stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
}

// Close kills every process started with Start and deletes the namespaces.
func (b *Bed) Close() {
	b.mu.Lock()
	procs, nss := b.procs, b.ns
	b.procs, b.ns = nil, nil
	b.mu.Unlock()
	for _, p := range procs {
		b.Stop(p)
	}
	for i := len(nss) - 1; i >= 0; i-- {
		_, _ = run("ip", "netns", "del", nss[i])
	}
}

// WaitTCP waits until something in ns accepts connections on addr
// ("ip:port" or "[ipv6]:port"), or the timeout passes.
func (b *Bed) WaitTCP(ns, addr string, timeout time.Duration) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		// bash's /dev/tcp opens the connection from inside ns.
		_, err := b.Run(ns, "timeout", "2", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%s", host, port))
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing accepts on %s in %s after %s: %w", addr, ns, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func run(name string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}
