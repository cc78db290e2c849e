package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// startProfile fetches a CPU profile of d from t's debug address into
// file, in the background; wait returns once it is written.
func startProfile(bed *testbed.Bed, t target, d time.Duration, file string) (wait func() error) {
	secs := int(d / time.Second)
	if secs < 1 {
		secs = 1
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, secs)
	errc := make(chan error, 1)
	go func() {
		_, err := bed.Run(t.ns, "curl", "-sS", "--fail", "-m", fmt.Sprint(secs+30), "-o", file, url)
		errc <- err
	}()
	return func() error { return <-errc }
}

// profileTop returns the first lines of `go tool pprof -top` for a profile.
func profileTop(bin, file string, lines int) string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount="+fmt.Sprint(lines), bin, file).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("pprof: %v\n%s", err, out)
	}
	// Drop pprof's preamble up to the "Showing" line.
	s := string(out)
	if i := strings.Index(s, "Showing nodes"); i > 0 {
		s = s[i:]
	}
	return s
}

// profilePath names the profile of one figure and server in dir.
func profilePath(dir, figure, server string) string {
	name := strings.NewReplacer(" ", "-", "/", "").Replace(figure)
	return filepath.Join(dir, name+"-"+server+".pprof")
}

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }
