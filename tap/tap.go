// Package tap opens Linux TAP devices: virtual Ethernet links whose other end
// is this process. Pasteur runs its own TCP/IP stack (package netstack) on a
// TAP device, so that its traffic never goes through the host's IP stack.
//
// A typical setup has the operator create the device and put it on a bridge:
//
//	ip tuntap add dev tap100 mode tap user pasteur
//	ip link set tap100 master br0 up
//
// and pasteur then calls Open("tap100"). A device that exists when Open is
// called is left as the operator made it: it stays after the process exits.
// A device that Open creates is removed when the process exits.
//
// OpenOffload opens the device with IFF_VNET_HDR and turns on checksum and
// TCP segmentation offloads (TUNSETOFFLOAD): each frame then carries a
// virtio-net header, and may be a TCP segment of up to 64 KiB that the
// kernel splits or that it coalesced.
//
// Opening a device only talks to /dev/net/tun; tap creates no sockets.
package tap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/songgao/water"
)

// Flags of /sys/class/net/NAME/tun_flags (linux/if_tun.h).
const (
	iffTUN     = 0x0001
	iffTAP     = 0x0002
	iffPersist = 0x0800
)

// maxNameLen is the longest interface name Linux accepts (IFNAMSIZ-1).
const maxNameLen = 15

// sysClassNet is where Linux describes network devices.
var sysClassNet = "/sys/class/net"

// Device is an open TAP device. Each Read returns one Ethernet frame and each
// Write sends one; on a device from OpenOffload, each frame is preceded by
// a virtio-net header (see VnetHdr). Read, Write and Writev may be called
// concurrently with each other and with Close, which unblocks them.
type Device struct {
	name string
	rw   io.ReadWriteCloser // water's interface, or the offload device's file
	// With offloads: the file's raw descriptor, for writev.
	raw  syscall.RawConn
	vnet bool
	// Without offloads: Writev joins the pieces here.
	mu  sync.Mutex
	buf []byte
}

// Open opens the TAP device called name (at most 15 bytes), creating it if it
// does not exist. An empty name lets the kernel choose one (see Name). The
// device carries plain Ethernet frames, with no packet-information header.
//
// A device that already exists keeps its persistence, owner and addresses;
// one that Open creates disappears when it is closed. Open fails if the device
// exists but is not a TAP device, or if another process has it open.
func Open(name string) (*Device, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	exists, err := checkExisting(name)
	if err != nil {
		return nil, err
	}
	// Offloads that an earlier OpenOffload turned on stay on a persistent
	// device, and would bring frames this plain path cannot take.
	if exists {
		if err := clearOffloads(name); err != nil {
			return nil, fmt.Errorf("tap: open %s: clear offloads: %w", name, err)
		}
	}
	cfg := water.Config{DeviceType: water.TAP}
	cfg.Name = name
	// water always sets the persist flag (TUNSETPERSIST) from this field:
	// false would make an operator's persistent device vanish on exit.
	cfg.Persist = exists
	ifce, err := water.New(cfg)
	if err != nil {
		return nil, openError(name, exists, err)
	}
	return &Device{rw: ifce, name: ifce.Name()}, nil
}

// Name returns the device's name, as the kernel knows it.
func (d *Device) Name() string { return d.name }

// Read reads one Ethernet frame (header included, no FCS) into p and returns
// its length. A frame longer than p is truncated. Read blocks until a frame
// arrives or the device is closed.
// On an offload device the frame starts with its virtio-net header and may
// be as long as 64 KiB plus headers.
func (d *Device) Read(p []byte) (int, error) { return d.rw.Read(p) }

// Write sends p as one Ethernet frame (header included, no FCS), preceded
// by its virtio-net header on an offload device.
func (d *Device) Write(p []byte) (int, error) { return d.rw.Write(p) }

// Writev sends the concatenation of bufs as one frame, as Write does. On an
// offload device it is one writev(2) call and copies nothing.
func (d *Device) Writev(bufs [][]byte) (int, error) {
	if d.raw != nil {
		return d.writev(bufs)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.buf = d.buf[:0]
	for _, b := range bufs {
		d.buf = append(d.buf, b...)
	}
	return d.rw.Write(d.buf)
}

// VnetHdr reports whether frames carry a virtio-net header (struct
// virtio_net_hdr, 10 bytes, little-endian), as on a device from
// OpenOffload.
func (d *Device) VnetHdr() bool { return d.vnet }

// Close closes the device, unblocking pending Reads and Writes. A device
// that Open created disappears; one that existed before stays.
func (d *Device) Close() error {
	if err := d.rw.Close(); err != nil {
		return fmt.Errorf("tap: close %s: %w", d.name, err)
	}
	return nil
}

// MTU returns the device's MTU: the largest IP packet it carries, Ethernet
// header excluded (1500 on a fresh device). If the MTU cannot be read, MTU
// returns 1500 along with the error, so a caller may log it and go on.
func (d *Device) MTU() (int, error) {
	b, err := os.ReadFile(filepath.Join(sysClassNet, d.name, "mtu"))
	if err != nil {
		return 1500, fmt.Errorf("tap: mtu of %s: %w", d.name, err)
	}
	mtu, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || mtu <= 0 {
		return 1500, fmt.Errorf("tap: mtu of %s: bad value %q", d.name, strings.TrimSpace(string(b)))
	}
	return mtu, nil
}

// checkName rejects names the kernel would refuse or that are not a plain
// file name under /sys/class/net.
func checkName(name string) error {
	switch {
	case len(name) > maxNameLen:
		return fmt.Errorf("tap: open %s: name longer than %d bytes", name, maxNameLen)
	case name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n\x00"):
		return fmt.Errorf("tap: open %q: not a valid interface name", name)
	}
	return nil
}

// checkExisting reports whether a device called name exists, and fails if it
// exists but is not a TAP device.
func checkExisting(name string) (bool, error) {
	if name == "" {
		return false, nil
	}
	dir := filepath.Join(sysClassNet, name)
	if _, err := os.Stat(dir); err != nil {
		return false, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "tun_flags"))
	if err != nil {
		return true, fmt.Errorf("tap: open %s: the device exists and is not a TUN/TAP device", name)
	}
	flags, err := strconv.ParseUint(strings.TrimSpace(string(b)), 0, 32)
	if err == nil && flags&iffTAP == 0 && flags&iffTUN != 0 {
		return true, fmt.Errorf("tap: open %s: the device is a TUN (IP) device, not a TAP (Ethernet) device", name)
	}
	return true, nil
}

// openError turns water's error into one an operator can act on; the
// underlying error stays available to errors.Is.
func openError(name string, exists bool, err error) error {
	if name == "" {
		name = "(new device)"
	}
	var msg string
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO):
		msg = "no /dev/net/tun (load the tun module, or give the container /dev/net/tun)"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		if exists {
			msg = "permission denied (run as root or give the device to this user: ip tuntap add dev " + name + " mode tap user USER)"
		} else {
			msg = "permission denied (run as root or with CAP_NET_ADMIN, or have an operator create the device for this user)"
		}
	case errors.Is(err, syscall.EBUSY):
		msg = "device busy (another process has it open)"
	case errors.Is(err, syscall.EINVAL):
		msg = "invalid argument (is it a multi-queue or TUN device?)"
	default:
		msg = err.Error()
	}
	return &openErr{msg: "tap: open " + name + ": " + msg, err: err}
}

// openErr is an error from Open: a message for the operator and the cause.
type openErr struct {
	msg string
	err error
}

func (e *openErr) Error() string { return e.msg }
func (e *openErr) Unwrap() error { return e.err }
