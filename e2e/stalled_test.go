package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// TestStalledReadersTAP is TestStalledReaders in TAP mode: 300 clients in
// the bridge namespace ask pasteur, on its own stack, for a 1 MiB paste
// of '<' and never read. Figures in the log: memory above idle, and the
// time curl takes for /healthz meanwhile. In "json, 1 MiB taken" the
// clients' receive buffers take in about a MiB of the 6 MiB answer
// before they stall, enough for the stack to raise their send buffers
// while its budget lasts (netstack/sendbuf.go).
func TestStalledReadersTAP(t *testing.T) {
	require(t, true, "git", "curl")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bed, err := testbed.New("stl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	p := startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur", args: []string{"--data", filepath.Join(tmp, "data")}})
	base := "http://" + testbed.TapAddr + ":4343"
	file := filepath.Join(tmp, "paste")
	writeFile(t, file, strings.Repeat("<", 1<<20))
	out, err := bed.Run(bed.Bridge, "curl", "-sS", "-m", "30", "-H", "Content-Type: text/plain", "--data-binary", "@"+file, base+"/")
	if err != nil {
		t.Fatalf("paste: %v %s", err, out)
	}
	id := strings.TrimPrefix(strings.TrimSpace(out), base+"/")
	for _, v := range []struct {
		name, path, accept string
		rcvbuf             int
	}{
		{"raw", "/" + id + "?raw=true", "*/*", 4096},
		{"json", "/" + id, "application/json", 4096},
		{"page", "/" + id, "text/html", 4096},
		{"json, 1 MiB taken", "/" + id, "application/json", 1 << 20},
	} {
		t.Run(v.name, func(t *testing.T) {
			bed.Run(bed.Bridge, "curl", "-s", "-o", "/dev/null", "-m", "30", "-H", "Accept: "+v.accept, base+v.path)
			time.Sleep(burstReturn)
			idle := rss(t, p.cmd.Process.Pid)
			helper := bed.Command(bed.Bridge, os.Args[0], "-test.run=^TestHelperStalledClients$", "-test.count=1")
			helper.Env = append(os.Environ(), fmt.Sprintf("PASTEUR_STALL=%s%s|%s|300|%d", base, v.path, v.accept, v.rcvbuf))
			stdin, _ := helper.StdinPipe()
			stdout, _ := helper.StdoutPipe()
			helper.Stderr = os.Stderr
			if err := bed.Start(helper); err != nil {
				t.Fatal(err)
			}
			defer bed.Stop(helper)
			ready := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "ready") {
						ready <- sc.Text()
					}
				}
				close(ready)
			}()
			select {
			case l, ok := <-ready:
				if !ok {
					t.Fatal("the helper ended without opening its connections")
				}
				t.Log(l)
			case <-time.After(60 * time.Second):
				t.Fatal("the helper did not open its connections")
			}
			time.Sleep(2 * time.Second)
			var lat []time.Duration
			for range 20 {
				out, err := bed.Run(bed.Bridge, "curl", "-s", "-o", "/dev/null", "-m", "10", "-w", "%{http_code} %{time_total}", base+"/healthz")
				var code int
				var secs float64
				if _, serr := fmt.Sscanf(out, "%d %g", &code, &secs); err != nil || serr != nil || code != 200 {
					t.Fatalf("/healthz: %q %v", out, err)
				}
				lat = append(lat, time.Duration(secs*float64(time.Second)))
			}
			slices.Sort(lat)
			held := rss(t, p.cmd.Process.Pid)
			t.Logf("TAP, %s: 300 stalled readers of 1 MiB of '<': RSS %d MiB idle, %d MiB stalled (+%d MiB); /healthz median %s, max %s",
				v.name, idle>>20, held>>20, (held-idle)>>20, lat[len(lat)/2], lat[len(lat)-1])
			stdin.Close()
		})
	}
}

// TestHelperStalledClients is not a test: with
// PASTEUR_STALL=URL|ACCEPT|N|RCVBUF (TestStalledReadersTAP runs it in a
// namespace) it opens N connections with receive buffers of RCVBUF bytes
// that ask for URL and never read, prints "ready N", and holds them until
// its standard input closes, a minute at most.
func TestHelperStalledClients(t *testing.T) {
	spec := os.Getenv("PASTEUR_STALL")
	if spec == "" {
		t.Skip("a helper of TestStalledReadersTAP")
	}
	f := strings.Split(spec, "|")
	u, err := url.Parse(f[0])
	if err != nil || len(f) != 4 {
		t.Fatalf("PASTEUR_STALL %q", spec)
	}
	n, _ := strconv.Atoi(f[2])
	rcvbuf, _ := strconv.Atoi(f[3])
	var conns []net.Conn
	defer func() { closeAll(conns) }()
	for range min(n, 1000) {
		c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		setReadBuffer(t, c.(*net.TCPConn), rcvbuf)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: %s\r\n\r\n", u.RequestURI(), u.Host, f[1])
		conns = append(conns, c)
	}
	fmt.Printf("ready %d\n", len(conns))
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
	}
}

// setReadBuffer sets c's receive buffer to n bytes, past the system's
// limit (net.core.rmem_max) as root does with SO_RCVBUFFORCE.
func setReadBuffer(t *testing.T, c *net.TCPConn, n int) {
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
	}); err != nil || serr != nil {
		t.Fatalf("receive buffer of %d: %v %v", n, err, serr)
	}
}
