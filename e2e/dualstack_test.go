package e2e

import (
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// The deployments of issue 15: pasteur on tap100 with IPv6 only, with an
// address leased by DHCP only, and with both families configured by the
// network (DHCP and router advertisements from dnsmasq), pushing to a git
// daemon that listens on both families, under strace: no host IP socket.

// TestTapIPv6Only: static IPv6, no IPv4 at all; the remote is an IPv6
// literal.
func TestTapIPv6Only(t *testing.T) {
	require(t, true, "git", "strace", "curl")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pasteur")
	bed := newBed(t)
	daemonLog := startGitDaemon(t, bed, tmp)

	p := startPasteurNet(t, bed, bin, "pasteur", "--ipv6", testbed.TapAddr6+testbed.Prefix6,
		"--ipv6-gateway", testbed.BridgeAddr6, "--remote", "git://["+testbed.BridgeAddr6+"]/pasteur",
		"--data", filepath.Join(tmp, "data"))
	if !slicesEqual(p.addrs, []string{testbed.TapAddr6}) {
		t.Errorf("stack addresses %v, want [%s] only", p.addrs, testbed.TapAddr6)
	}
	pasteOver(t, bed, bare, testbed.TapAddr6, "over IPv6 only")
	if out, err := bed.Run(bed.Bridge, "curl", "-sS", "-m", "5", "http://"+testbed.TapAddr+":4343/"); err == nil {
		t.Errorf("pasteur answered on %s without an IPv4 address: %q", testbed.TapAddr, out)
	}
	p.stop(t)
	if log := readFile(t, daemonLog); !strings.Contains(log, testbed.TapAddr6) {
		t.Errorf("git daemon saw no connection from %s:\n%s", testbed.TapAddr6, log)
	}
}

// TestTapDHCPOnly: the IPv4 address, gateway and DNS server come from
// dnsmasq's DHCP; pasteur logs the lease.
func TestTapDHCPOnly(t *testing.T) {
	require(t, true, "git", "strace", "curl", "/usr/sbin/dnsmasq")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pasteur")
	bed := newBed(t)
	startGitDaemon(t, bed, tmp)
	dm, err := bed.StartDnsmasq(tmp, map[string][]string{"git.test": {testbed.BridgeAddr}})
	if err != nil {
		t.Fatal(err)
	}

	p := startPasteurNet(t, bed, bin, "pasteur", "--dhcp", "--remote", "git://git.test/pasteur",
		"--data", filepath.Join(tmp, "data"))
	leased := logValue(t, p, "DHCP lease", "addr")
	ip, _, _ := strings.Cut(leased, "/")
	if got := dm.Lease(p.mac); got != ip || !slicesEqual(p.addrs, []string{ip}) {
		t.Fatalf("pasteur logged the lease %s and has %v; dnsmasq leased %q to %s", leased, p.addrs, got, p.mac)
	}
	if gw := logValue(t, p, "DHCP lease", "gateway"); gw != testbed.BridgeAddr {
		t.Errorf("leased gateway %s, want %s", gw, testbed.BridgeAddr)
	}
	pasteOver(t, bed, bare, ip, "over DHCP only")
	p.stop(t)
}

// TestTapDualStack: DHCP and router advertisements together; the remote's
// name has A and AAAA records, and Happy Eyeballs takes IPv6. Both
// addresses serve, and both come back the same after a restart.
func TestTapDualStack(t *testing.T) {
	require(t, true, "git", "strace", "curl", "/usr/sbin/dnsmasq")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pasteur")
	bed := newBed(t)
	daemonLog := startGitDaemon(t, bed, tmp)
	if _, err := bed.StartDnsmasq(tmp, map[string][]string{"git.test": {testbed.BridgeAddr, testbed.BridgeAddr6}}); err != nil {
		t.Fatal(err)
	}
	args := []string{"--dhcp", "--accept-router-advertisements", "--remote", "git://git.test/pasteur",
		"--data", filepath.Join(tmp, "data")}

	p := startPasteurNet(t, bed, bin, "pasteur", args...)
	if len(p.addrs) != 2 {
		t.Fatalf("stack addresses %v, want a leased IPv4 and a SLAAC IPv6 one", p.addrs)
	}
	v4, v6 := p.addrs[0], p.addrs[1]
	mac, _ := net.ParseMAC(p.mac)
	if want := slaacAddr(mac); v6 != want {
		t.Errorf("SLAAC address %s, want %s (EUI-64 of %s)", v6, want, mac)
	}
	pasteOver(t, bed, bare, v4, "dual stack, over IPv4")
	pasteOver(t, bed, bare, v6, "dual stack, over IPv6")
	p.stop(t)
	if log := readFile(t, daemonLog); !strings.Contains(log, v6) {
		t.Errorf("git daemon saw no connection from %s (Happy Eyeballs prefers IPv6):\n%s", v6, log)
	}

	again := startPasteurNet(t, bed, bin, "pasteur-again", args...)
	if !slicesEqual(again.addrs, p.addrs) {
		t.Errorf("after a restart the addresses are %v, were %v", again.addrs, p.addrs)
	}
	again.stop(t)
}

// newBed builds the testbed, removed at cleanup.
func newBed(t *testing.T) *testbed.Bed {
	t.Helper()
	bed, err := testbed.New("e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	return bed
}

// startGitDaemon serves base's repositories on both bridge addresses and
// returns the file of its log, which names every client.
func startGitDaemon(t *testing.T, bed *testbed.Bed, base string) string {
	t.Helper()
	log := filepath.Join(t.TempDir(), "git-daemon.log")
	f := createFile(t, log)
	cmd := bed.Command(bed.Bridge, "git", "daemon", "--listen="+testbed.BridgeAddr, "--listen="+testbed.BridgeAddr6,
		"--base-path="+base, "--export-all", "--enable=receive-pack", "--reuseaddr", "--informative-errors", "--verbose")
	cmd.Stdout, cmd.Stderr = f, f
	if err := bed.Start(cmd); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{testbed.BridgeAddr + ":9418", "[" + testbed.BridgeAddr6 + "]:9418"} {
		if err := bed.WaitTCP(bed.Bridge, addr, 15*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return log
}

// netPasteur is a pasteur started by startPasteurNet.
type netPasteur struct {
	*pasteur
	addrs []string // the stack's addresses once up, IPv4 first
	mac   string
}

// startPasteurNet runs pasteur on tap100 under strace with the network
// flags in args, waits until its stack is up and it serves on every
// address it logged, and returns them.
func startPasteurNet(t *testing.T, bed *testbed.Bed, bin, name string, args ...string) *netPasteur {
	t.Helper()
	p := launch(t, bed, name, true, append([]string{bin, "--tap", testbed.Tap}, args...))
	np := &netPasteur{pasteur: p}
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(readFile(t, p.log), "userspace stack up") {
		select {
		case <-p.exited:
			t.Fatalf("pasteur exited: %v", p.cmd.ProcessState)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("pasteur's stack did not come up")
		}
	}
	np.addrs = strings.Fields(strings.Trim(logValue(t, np, "userspace stack up", "addrs"), "[]"))
	np.mac = logValue(t, np, "DHCP lease", "mac")
	for _, a := range np.addrs {
		if err := bed.WaitTCP(bed.Bridge, net.JoinHostPort(a, "4343"), 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return np
}

// logValue returns the value of key in the first line of p's log whose
// message is msg ("" if there is none).
func logValue(t *testing.T, p *netPasteur, msg, key string) string {
	t.Helper()
	for _, line := range strings.Split(readFile(t, p.log), "\n") {
		if !strings.Contains(line, `msg="`+msg+`"`) {
			continue
		}
		m := regexp.MustCompile(`\b` + key + `=("[^"]*"|\S+)`).FindStringSubmatch(line)
		if m != nil {
			return strings.Trim(m[1], `"`)
		}
	}
	return ""
}

// pasteOver pastes comment through pasteur at addr, from the bridge, and
// checks that the paste reached the remote repository bare.
func pasteOver(t *testing.T, bed *testbed.Bed, bare, addr, comment string) {
	t.Helper()
	base := "http://" + net.JoinHostPort(addr, "4343")
	out, err := bed.Run(bed.Bridge, "curl", "-sS", "-g", "--fail-with-body", "-m", "30", "-F", "paste="+comment, "-F", "comment="+comment, base+"/")
	if err != nil {
		t.Fatalf("paste through %s: %v", addr, err)
	}
	id := strings.TrimPrefix(strings.TrimSpace(out), base+"/")
	if id == strings.TrimSpace(out) {
		t.Fatalf("paste through %s answered %q", addr, out)
	}
	pathOf(t, bare, id)
	if msg := git(t, bare, "log", "-1", "--format=%s", "master"); strings.TrimSpace(msg) != comment {
		t.Errorf("the remote's last commit is %q, want %q", msg, comment)
	}
	raw, err := bed.Run(bed.Bridge, "curl", "-sS", "-g", "--fail-with-body", "-m", "30", base+"/"+id+"?raw=true")
	if err != nil || raw != comment {
		t.Errorf("raw paste through %s: %q, %v", addr, raw, err)
	}
}

// slaacAddr is the fd00::/64 address SLAAC makes from mac (modified EUI-64).
func slaacAddr(mac net.HardwareAddr) string {
	if len(mac) != 6 {
		return ""
	}
	a := [16]byte{0: 0xfd}
	copy(a[8:], []byte{mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]})
	return netip.AddrFrom16(a).String()
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, " ") == strings.Join(b, " ")
}
