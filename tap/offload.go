package tap

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrNoOffload is wrapped by OpenOffload's error when the kernel refuses
// IFF_VNET_HDR or the offloads; the device then still opens with Open.
var ErrNoOffload = errors.New("the kernel refused IFF_VNET_HDR or TUNSETOFFLOAD")

// offloads are the offloads OpenOffload asks for: the kernel may hand us
// frames whose checksum is partial, and TCP segments of up to 64 KiB; we may
// write the same (the kernel completes and splits them).
const offloads = unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6

// OpenOffload opens the TAP device called name as Open does, with
// IFF_VNET_HDR and checksum and TCP segmentation offloads turned on. Each
// frame read or written is preceded by a 10-byte virtio-net header, and
// TCP frames may be up to 64 KiB long (see VnetHdr).
//
// A device that exists keeps its persistence and owner; one that
// OpenOffload creates disappears when it is closed. If the kernel refuses
// the flags, the error wraps ErrNoOffload.
func OpenOffload(name string) (*Device, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	exists, err := checkExisting(name)
	if err != nil {
		return nil, err
	}
	fd, ifname, err := attach(name, exists, unix.IFF_TAP|unix.IFF_NO_PI|unix.IFF_VNET_HDR)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, offloads); err != nil {
		return nil, fmt.Errorf("tap: open %s: TUNSETOFFLOAD: %w (%w)", name, ErrNoOffload, err)
	}
	// A non-blocking descriptor joins Go's poller: Read and Write park the
	// goroutine, and Close unblocks them.
	f := os.NewFile(uintptr(fd), "/dev/net/tun")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		ok = true // f owns fd now
		return nil, fmt.Errorf("tap: open %s: %w", name, err)
	}
	ok = true
	return &Device{rw: f, raw: raw, vnet: true, name: ifname}, nil
}

// attach opens /dev/net/tun and attaches it to the device called name with
// flags (TUNSETIFF), returning the non-blocking descriptor and the device's
// name. A refused IFF_VNET_HDR wraps ErrNoOffload.
func attach(name string, exists bool, flags uint16) (int, string, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, "", openError(name, exists, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err == nil {
		ifr.SetUint16(flags)
		err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	}
	if err != nil {
		unix.Close(fd)
		if flags&unix.IFF_VNET_HDR != 0 && errors.Is(err, unix.EINVAL) {
			return -1, "", fmt.Errorf("tap: open %s: IFF_VNET_HDR: %w (%w)", name, ErrNoOffload, err)
		}
		return -1, "", openError(name, exists, os.NewSyscallError("ioctl", err))
	}
	return fd, ifr.Name(), nil
}

// clearOffloads turns off the offloads (TUNSETOFFLOAD 0) that an earlier
// OpenOffload left on the persistent device called name, through a
// descriptor of its own that it attaches and closes again: water's
// descriptor stays water's.
func clearOffloads(name string) error {
	fd, _, err := attach(name, true, unix.IFF_TAP|unix.IFF_NO_PI)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, 0)
}

// writev writes bufs as one frame with writev(2).
func (d *Device) writev(bufs [][]byte) (int, error) {
	var n int
	var errno error
	err := d.raw.Write(func(fd uintptr) bool {
		n, errno = unix.Writev(int(fd), bufs)
		return !errors.Is(errno, unix.EAGAIN)
	})
	if err == nil {
		err = errno
	}
	if err != nil {
		return n, fmt.Errorf("tap: write %s: %w", d.name, err)
	}
	return n, nil
}
