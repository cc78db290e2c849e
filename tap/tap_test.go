package tap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// needTAP skips the test unless it can create TAP devices; with
// PASTEUR_E2E=1 it fails instead, so that end-to-end runs do not pass
// silently.
func needTAP(t *testing.T, tools ...string) {
	t.Helper()
	var reason string
	if os.Geteuid() != 0 {
		reason = "not root"
	} else if _, err := os.Stat("/dev/net/tun"); err != nil {
		reason = "no /dev/net/tun"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil && reason == "" {
			reason = "no " + tool + " command"
		}
	}
	if reason == "" {
		return
	}
	if os.Getenv("PASTEUR_E2E") == "1" {
		t.Fatalf("cannot test TAP devices: %s", reason)
	}
	t.Skipf("cannot test TAP devices: %s (set PASTEUR_E2E=1 to fail instead)", reason)
}

// exists reports whether a network device called name exists.
func exists(name string) bool {
	_, err := os.Stat(filepath.Join(sysClassNet, name))
	return err == nil
}

// waitGone waits until the device disappears, or fails the test.
func waitGone(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for exists(name) {
		if time.Now().After(deadline) {
			t.Fatalf("device %s still exists after Close", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOpenNewDevice(t *testing.T) {
	needTAP(t)
	name := fmt.Sprintf("pstt%d", os.Getpid())
	if exists(name) {
		t.Fatalf("device %s already exists", name)
	}
	dev, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exists(name) {
			exec.Command("ip", "link", "del", name).Run()
		}
	})
	if got := dev.Name(); got != name {
		t.Errorf("Name() = %q, want %q", got, name)
	}
	if mtu, err := dev.MTU(); err != nil || mtu != 1500 {
		t.Errorf("MTU() = %d, %v; want 1500, nil", mtu, err)
	}
	if !exists(name) {
		t.Errorf("device %s does not exist while open", name)
	}

	// Close unblocks a pending Read (the device is down: no frame comes).
	done := make(chan error, 1)
	go func() {
		_, err := dev.Read(make([]byte, 1600))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let Read block; not needed for correctness
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("Read after Close returned no error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
	// A device Open created goes away with it.
	waitGone(t, name)
}

func TestOpenKeepsPersistentDevice(t *testing.T) {
	needTAP(t, "ip")
	name := fmt.Sprintf("psttp%d", os.Getpid())
	if out, err := exec.Command("ip", "tuntap", "add", "dev", name, "mode", "tap").CombinedOutput(); err != nil {
		t.Fatalf("ip tuntap add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "link", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip link del %s: %v: %s", name, err, out)
		}
	})

	for i := range 2 { // twice: the second Open sees what the first left
		dev, err := Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := dev.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // a removal would be synchronous; be lenient
		if !exists(name) {
			t.Fatalf("open %d: device %s vanished after Close", i, name)
		}
		b, err := os.ReadFile(filepath.Join(sysClassNet, name, "tun_flags"))
		if err != nil {
			t.Fatal(err)
		}
		flags, err := strconv.ParseUint(strings.TrimSpace(string(b)), 0, 32)
		if err != nil {
			t.Fatal(err)
		}
		if flags&iffPersist == 0 {
			t.Fatalf("open %d: device %s lost IFF_PERSIST: tun_flags %#x", i, name, flags)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"this-name-is-too-long", "longer than 15"},
		{"a/b", "not a valid interface name"},
		{"..", "not a valid interface name"},
	}
	if exists("lo") {
		tests = append(tests, struct{ name, want string }{"lo", "not a TUN/TAP device"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev, err := Open(tt.name)
			if err == nil {
				dev.Close()
				t.Fatalf("Open(%q) succeeded", tt.name)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "tap: open ") {
				t.Errorf("Open(%q) = %q, want it to contain %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestOpenErrorMessages(t *testing.T) {
	tests := []struct {
		err    error
		exists bool
		want   string
	}{
		{syscall.ENOENT, false, "tap: open tap9: no /dev/net/tun"},
		{os.NewSyscallError("ioctl", syscall.EPERM), false, "tap: open tap9: permission denied (run as root"},
		{os.NewSyscallError("ioctl", syscall.EPERM), true, "give the device to this user: ip tuntap add dev tap9 mode tap user USER"},
		{os.NewSyscallError("ioctl", syscall.EBUSY), true, "tap: open tap9: device busy"},
		{errors.New("odd"), false, "tap: open tap9: odd"},
	}
	for _, tt := range tests {
		err := openError("tap9", tt.exists, tt.err)
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("openError(%v) = %q, want it to contain %q", tt.err, err, tt.want)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("openError(%v) does not wrap its cause", tt.err)
		}
	}
}

func TestOpenOffload(t *testing.T) {
	needTAP(t, "ip")
	name := fmt.Sprintf("pstto%d", os.Getpid())
	dev, err := OpenOffload(name)
	if errors.Is(err, ErrNoOffload) {
		t.Skipf("kernel refuses offloads: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exists(name) {
			exec.Command("ip", "link", "del", name).Run()
		}
	})
	if !dev.VnetHdr() || dev.Name() != name {
		t.Errorf("VnetHdr() = %v, Name() = %q; want true, %q", dev.VnetHdr(), dev.Name(), name)
	}
	b, err := os.ReadFile(filepath.Join(sysClassNet, name, "tun_flags"))
	if err != nil {
		t.Fatal(err)
	}
	const iffVnetHdr = 0x4000
	if flags, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 0, 32); flags&iffVnetHdr == 0 || flags&iffTAP == 0 {
		t.Errorf("tun_flags %#x: want IFF_TAP and IFF_VNET_HDR", flags)
	}
	// A frame with an empty virtio-net header goes out whole, header
	// included (the kernel refuses writes while the device is down).
	if out, err := exec.Command("ip", "link", "set", name, "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set up: %v: %s", err, out)
	}
	frame := make([]byte, 10+60)
	copy(frame[10:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06})
	if n, err := dev.Writev([][]byte{frame[:10], frame[10:]}); err != nil || n != len(frame) {
		t.Errorf("Writev = %d, %v; want %d, nil", n, err, len(frame))
	}

	// Close unblocks a pending Read (the device is up: the kernel's own
	// IPv6 frames may come first, each behind its virtio-net header).
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, err := dev.Read(buf)
			if err != nil {
				done <- err
				return
			}
			if n < 10+14 {
				done <- fmt.Errorf("read a %d-byte frame, shorter than the headers", n)
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !errors.Is(err, os.ErrClosed) {
			t.Errorf("Read after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
	waitGone(t, name)
}

func TestWritevPlain(t *testing.T) {
	needTAP(t, "ip")
	name := fmt.Sprintf("psttw%d", os.Getpid())
	dev, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if out, err := exec.Command("ip", "link", "set", name, "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set up: %v: %s", err, out)
	}
	if dev.VnetHdr() {
		t.Error("a plain device reports a virtio-net header")
	}
	frame := make([]byte, 60)
	if n, err := dev.Writev([][]byte{frame[:14], frame[14:]}); err != nil || n != len(frame) {
		t.Errorf("Writev = %d, %v; want %d, nil", n, err, len(frame))
	}
}

// An operator's persistent device that pasteur once used with offloads
// opens plain again, and back with offloads.
func TestOffloadThenPlain(t *testing.T) {
	needTAP(t, "ip")
	name := fmt.Sprintf("psttx%d", os.Getpid())
	if out, err := exec.Command("ip", "tuntap", "add", "dev", name, "mode", "tap").CombinedOutput(); err != nil {
		t.Fatalf("ip tuntap add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", name).Run() })
	for i, offload := range []bool{true, false, true} {
		open := Open
		if offload {
			open = OpenOffload
		}
		dev, err := open(name)
		if err != nil {
			t.Fatalf("open %d (offload %v): %v", i, offload, err)
		}
		if dev.VnetHdr() != offload {
			t.Errorf("open %d: VnetHdr() = %v", i, dev.VnetHdr())
		}
		if err := dev.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
