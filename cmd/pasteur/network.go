package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/netstack"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/tap"
)

// addrWait bounds how long pasteur waits at start for DHCP, router
// advertisements and duplicate address detection before it goes on (the
// stack keeps trying).
const addrWait = 30 * time.Second

// openNetwork returns the stack to run on, the address to listen on, and
// how to release the stack. In TAP mode it listens on every address of the
// stack, of both families, leased and advertised ones included.
func openNetwork(cfg *serveConfig, log *slog.Logger) (netx.Network, string, func(), error) {
	port := strconv.Itoa(cfg.port)
	if cfg.tap == "" {
		return &netx.Host{}, net.JoinHostPort(cfg.bind, port), func() {}, nil
	}
	dev, err := openTap(cfg, log)
	if err != nil {
		return nil, "", nil, err
	}
	mtu, err := dev.MTU()
	if err != nil {
		dev.Close()
		return nil, "", nil, err
	}
	n := cfg.net
	var mac net.HardwareAddr
	if !n.ipv4.IsValid() && !n.ipv6.IsValid() {
		mac = stableMAC(cfg.tap)
	}
	st, err := netstack.New(dev, netstack.Config{
		Addr:     n.ipv4,
		Gateway:  n.gateway,
		Addr6:    n.ipv6,
		Gateway6: n.gateway6,
		DHCP:     n.dhcp,
		AcceptRA: n.acceptRA,
		DNS:      n.dns,
		MAC:      mac,
		MTU:      mtu,
		Logger:   log.With("component", "netstack"),
	})
	if err != nil {
		dev.Close()
		return nil, "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), addrWait)
	defer cancel()
	if err := st.WaitAddresses(ctx); err != nil {
		log.Warn("not every address is there yet; going on, the stack keeps trying", "err", err)
	}
	log.Info("userspace stack up", "tap", cfg.tap, "addrs", st.Addrs(), "mtu", mtu, "offload", dev.VnetHdr())
	return st, net.JoinHostPort("", port), func() { st.Close() }, nil
}

// stableMAC derives the stack's MAC address, when no static address gives
// one, from the machine's id and the device's name: the same at every
// start, so that the DHCP server gives the same lease and SLAAC the same
// address, and different for each device and machine.
func stableMAC(device string) net.HardwareAddr {
	id, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		host, _ := os.Hostname()
		id = []byte(host)
	}
	sum := sha256.Sum256([]byte("pasteur mac\x00" + strings.TrimSpace(string(id)) + "\x00" + device))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&^1 | 2 // unicast, locally administered
	return mac
}

// openTap opens the TAP device, with offloads when asked and the kernel
// allows them.
func openTap(cfg *serveConfig, log *slog.Logger) (*tap.Device, error) {
	if !cfg.offload {
		return tap.Open(cfg.tap)
	}
	dev, err := tap.OpenOffload(cfg.tap)
	if errors.Is(err, tap.ErrNoOffload) {
		log.Warn("TAP offloads refused; using plain frames", "err", err)
		return tap.Open(cfg.tap)
	}
	return dev, err
}
