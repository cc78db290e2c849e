package testbed

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The DHCP pool StartDnsmasq leases from.
const (
	DHCPFirst = "10.0.0.50"
	DHCPLast  = "10.0.0.99"
)

// Dnsmasq is dnsmasq on br1: a DHCPv4 server leasing DHCPFirst..DHCPLast
// with BridgeAddr as gateway and DNS server, a router advertiser of
// fd00::/64 (SLAAC) with BridgeAddr6 as router, and a DNS server on both
// bridge addresses for the names it was given.
type Dnsmasq struct {
	Cmd    *exec.Cmd
	leases string
}

// StartDnsmasq starts dnsmasq in the bridge namespace, with its files in
// dir; hosts maps DNS names to the addresses (IPv4 and IPv6) it answers
// for them. Close stops it.
func (b *Bed) StartDnsmasq(dir string, hosts map[string][]string) (*Dnsmasq, error) {
	d := &Dnsmasq{leases: filepath.Join(dir, "dnsmasq.leases")}
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		bin = "/usr/sbin/dnsmasq" // Debian's, when sbin is not on PATH
	}
	args := []string{bin, "--keep-in-foreground", "--log-facility=-", "--conf-file=/dev/null",
		"--user=root", "--pid-file=" + filepath.Join(dir, "dnsmasq.pid"),
		"--interface=br1", "--bind-interfaces", "--no-resolv", "--no-hosts",
		"--dhcp-leasefile=" + d.leases,
		"--dhcp-range=" + DHCPFirst + "," + DHCPLast + ",255.255.255.0,2m",
		"--dhcp-option=option:router," + BridgeAddr,
		"--dhcp-option=option:dns-server," + BridgeAddr,
		"--enable-ra", "--dhcp-range=::,constructor:br1,ra-only,64,10m", "--ra-param=br1,10",
		"--log-dhcp",
	}
	for name, addrs := range hosts {
		args = append(args, "--host-record="+name+","+strings.Join(addrs, ","))
	}
	d.Cmd = b.Command(b.Bridge, args...)
	log, err := os.Create(filepath.Join(dir, "dnsmasq.log"))
	if err != nil {
		return nil, err
	}
	d.Cmd.Stdout, d.Cmd.Stderr = log, log
	if err := b.Start(d.Cmd); err != nil {
		log.Close()
		return nil, fmt.Errorf("start dnsmasq: %w", err)
	}
	log.Close()
	// Ready once its DNS server answers.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := b.Run(b.Bridge, "timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/"+BridgeAddr+"/53"); err == nil {
			return d, nil
		}
		if time.Now().After(deadline) {
			return nil, errors.New("dnsmasq does not answer on port 53: see dnsmasq.log")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Lease returns the IPv4 address leased to mac, or "" if none.
func (d *Dnsmasq) Lease(mac string) string {
	f, err := os.Open(d.leases)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// expiry mac ip hostname client-id
		if fs := strings.Fields(sc.Text()); len(fs) >= 3 && strings.EqualFold(fs[1], mac) {
			return fs[2]
		}
	}
	return ""
}
