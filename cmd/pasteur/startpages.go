package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Pages of the binary touched at start. Go runs the init functions of
// every package linked in, gVisor's, go-git's, ACME's, Prometheus's and
// protobuf's among them, whatever mode the server runs in; with the
// kernel's fault-around (64 KiB a fault), that leaves 16 of the binary's
// 18 MiB of code and read-only data mapped in the process after start,
// and most of it serves no request (a load maps back ~11 MiB). The pages
// stay in the kernel's page cache either way: unmapping them costs the
// process only the minor faults of what it touches again.
//
// dropStartPages unmaps the binary's read-only mappings (code, read-only
// data, the function tables) with MADV_DONTNEED, once, after start. It
// skips any mapping with a private copy of a page (a relocated one, in a
// position-independent build): dropping that would bring back the file's
// bytes.
func dropStartPages() (int, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	maps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	dropped := 0
	for _, m := range binaryMappings(maps, exe) {
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); e != 0 {
			return dropped, fmt.Errorf("madvise %x-%x: %w", m.start, m.end, e)
		}
		dropped += int(m.end - m.start)
	}
	return dropped, nil
}

// mapping is an address range of /proc/self/smaps.
type mapping struct{ start, end uintptr }

// binaryMappings returns the mappings of file exe in smaps that are
// private, read-only and hold no private copy of a page.
func binaryMappings(smaps []byte, exe string) []mapping {
	var out []mapping
	var cur *mapping
	s := bufio.NewScanner(bytes.NewReader(smaps))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) == 0 {
			continue
		}
		if r, ok := parseRange(f[0]); ok && len(f) >= 5 {
			cur = nil
			if len(f) >= 6 && strings.Join(f[5:], " ") == exe && len(f[1]) == 4 && f[1][1] == '-' && f[1][3] == 'p' {
				out = append(out, r)
				cur = &out[len(out)-1]
			}
			continue
		}
		if cur != nil && f[0] == "Anonymous:" && len(f) >= 2 && f[1] != "0" {
			out = out[:len(out)-1]
			cur = nil
		}
	}
	return out
}

// parseRange parses "start-end" in hexadecimal.
func parseRange(s string) (mapping, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(a, 16, 64)
	end, err2 := strconv.ParseUint(b, 16, 64)
	if errors.Join(err1, err2) != nil || end <= start {
		return mapping{}, false
	}
	return mapping{uintptr(start), uintptr(end)}, true
}
