package main

import (
	"os"
	"testing"
)

// TestBinaryMappings: only the binary's private read-only mappings without
// a private copy of a page are dropped.
func TestBinaryMappings(t *testing.T) {
	smaps := `00400000-00d96000 r-xp 00000000 fe:00 9978310                            /srv/pasteur bin
Size:               9816 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me sd
00d96000-019ba000 r--p 00996000 fe:00 9978310                            /srv/pasteur bin
Anonymous:             0 kB
019ba000-01a4a000 rw-p 015ba000 fe:00 9978310                            /srv/pasteur bin
Anonymous:           512 kB
01a4a000-01b00000 r--p 0164a000 fe:00 9978310                            /srv/pasteur bin
Anonymous:            12 kB
01b00000-01c00000 r--s 00000000 fe:00 9978310                            /srv/pasteur bin
Anonymous:             0 kB
7f0000000000-7f0000100000 r--p 00000000 fe:00 1234                       /srv/other
Anonymous:             0 kB
7f0000200000-7f0000300000 rw-p 00000000 00:00 0
Anonymous:           100 kB
`
	got := binaryMappings([]byte(smaps), "/srv/pasteur bin")
	want := []mapping{{0x400000, 0xd96000}, {0xd96000, 0x19ba000}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("mappings %x, want %x", got, want)
	}
}

// TestDropStartPages: the test binary drops its start pages and goes on
// running its code.
func TestDropStartPages(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skip("no /proc/self/smaps")
	}
	n, err := dropStartPages()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("nothing dropped")
	}
	if got := binaryMappings([]byte("x"), "y"); got != nil {
		t.Errorf("after the drop: %v", got)
	}
}
