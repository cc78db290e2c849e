package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// local is pasteur on loopback, for the tests of a public server.
type local struct {
	pid     int
	base    string // http://127.0.0.1:PORT
	metrics string // http://127.0.0.1:PORT of --metrics-addr
	data    string // --data
	log     *lockedBuffer
}

// lockedBuffer is a log written by the process and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor returns the log once it holds every one of what: pasteur writes
// its information lines in batches (up to 100 ms late), so a line of a
// request just answered may not be there yet. It fails t after 10 s.
func (l *lockedBuffer) waitFor(t *testing.T, what ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := l.String()
		missing := ""
		for _, w := range what {
			if !strings.Contains(log, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log lacks %q after 10 s:\n%s", missing, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startPublic runs pasteur (under the command wrap, such as prlimit, if
// not nil) on a free loopback port with a --metrics-addr and a fresh
// --data, plus args, and waits until it serves. It is stopped, by pid, at
// cleanup.
func startPublic(t *testing.T, wrap []string, bin string, args ...string) *local {
	t.Helper()
	port, mport := freePort(t), freePort(t)
	l := &local{
		base:    "http://127.0.0.1:" + strconv.Itoa(port),
		metrics: "http://127.0.0.1:" + strconv.Itoa(mport),
		log:     &lockedBuffer{},
		data:    filepath.Join(t.TempDir(), "data"),
	}
	argv := append(append(append([]string{}, wrap...), bin, "--port", strconv.Itoa(port),
		"--metrics-addr", "127.0.0.1:"+strconv.Itoa(mport), "--data", l.data), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = l.log, l.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l.pid = cmd.Process.Pid
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(l.pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(l.pid, syscall.SIGKILL)
			<-done
			t.Error("pasteur did not stop on SIGTERM")
		}
		if t.Failed() {
			t.Logf("pasteur's log:\n%s", l.log)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(mport), time.Second)
		if err == nil {
			c.Close()
			return l
		}
		select {
		case <-done:
			t.Fatalf("pasteur exited:\n%s", l.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pasteur does not serve: %v\n%s", err, l.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// request sends one request on a connection of its own and returns the
// status, the body and the answer's headers.
func (l *local) request(t *testing.T, method, path, body string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, l.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "auth" {
			u, p, _ := strings.Cut(hdr[i+1], ":")
			req.SetBasicAuth(u, p)
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// scrape reads /metrics with Prometheus' own parser.
func (l *local) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(l.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metric is the value of the metric name whose labels are labels (pairs);
// a histogram's is its count of samples.
func metric(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	sum := 0.0
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// htpasswd runs htpasswd -B to add or change user in file.
func htpasswd(t *testing.T, file, user, password string, create bool) {
	t.Helper()
	args := []string{"-B", "-b"}
	if create {
		args = append(args, "-c")
	}
	if out, err := exec.Command("htpasswd", append(args, file, user, password)...).CombinedOutput(); err != nil {
		t.Fatalf("htpasswd: %v\n%s", err, out)
	}
}

// TestAuth: with --auth, a file htpasswd -B made, creating (and the form)
// needs a user, reading does not; a user added to the file is seen
// without a restart; --auth-read closes reading too.
func TestAuth(t *testing.T) {
	require(t, false, "git", "htpasswd")
	bin := buildPasteur(t)
	users := filepath.Join(t.TempDir(), "users")
	htpasswd(t, users, "alice", "s3cret", true)
	s := startPublic(t, nil, bin, "--auth", users)

	code, _, h := s.request(t, "GET", "/", "")
	if code != 401 || h.Get("WWW-Authenticate") != `Basic realm="pasteur", charset="UTF-8"` {
		t.Fatalf("GET / without a user: %d, WWW-Authenticate %q", code, h.Get("WWW-Authenticate"))
	}
	if code, _, _ := s.request(t, "GET", "/", "", "auth", "alice:s3cret"); code != 200 {
		t.Fatalf("GET / as alice: %d", code)
	}
	if code, _, _ := s.request(t, "POST", "/", "no user"); code != 401 {
		t.Fatalf("POST without a user: %d", code)
	}
	if code, _, _ := s.request(t, "POST", "/", "wrong", "auth", "alice:guess"); code != 401 {
		t.Fatalf("POST with a wrong password: %d", code)
	}
	code, url, _ := s.request(t, "POST", "/?user=mallory", "from alice", "auth", "alice:s3cret")
	if code != 200 {
		t.Fatalf("POST as alice: %d %s", code, url)
	}
	if author := lastAuthor(t, s.data, "alice"); author != "alice" {
		t.Errorf("commit author %q, want the authenticated alice", author)
	}
	id := strings.TrimPrefix(strings.TrimSpace(url), s.base+"/")
	if code, body, _ := s.request(t, "GET", "/"+id+"?raw=true", ""); code != 200 || body != "from alice" {
		t.Fatalf("reading without a user: %d %q", code, body)
	}
	if code, body, _ := s.request(t, "GET", "/healthz", ""); code != 200 || strings.TrimSpace(strings.Join(strings.Fields(body), "")) != `{"status":"ok"}` {
		t.Fatalf("public /healthz: %d %q", code, body)
	}

	// A user added to the file may paste within seconds.
	htpasswd(t, users, "bob", "hunter2", false)
	deadline := time.Now().Add(10 * time.Second)
	var bob string // the id of bob's paste
	for {
		code, body, _ := s.request(t, "POST", "/", "from bob", "auth", "bob:hunter2")
		if code == 200 {
			bob = strings.TrimPrefix(strings.TrimSpace(body), s.base+"/")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob, added to the file, still gets %d", code)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if n := metric(s.scrape(t), "pasteur_auth_failures_total"); n < 3 {
		t.Errorf("pasteur_auth_failures_total = %v, want at least 3", n)
	}
	// Bob's paste is logged after the failed attempts: once it is there,
	// so are they.
	if log := s.log.waitFor(t, "id="+bob); strings.Contains(log, "s3cret") || strings.Contains(log, "guess") {
		t.Errorf("a password is in the log:\n%s", s.log)
	}

	// With --rate-limit, wrong passwords spend the client's tokens, and
	// once they are gone no password is tried: 429, even the right one.
	g := startPublic(t, nil, bin, "--auth", users, "--rate-limit", "3/1m")
	for i := range 3 {
		if code, _, _ := g.request(t, "GET", "/", "", "auth", fmt.Sprintf("alice:guess%d", i)); code != 401 {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code, _, h := g.request(t, "GET", "/", "", "auth", "alice:s3cret"); code != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("after three wrong passwords: %d, Retry-After %q; want 429", code, h.Get("Retry-After"))
	}
	if code, _, _ := g.request(t, "GET", "/healthz", ""); code != 200 {
		t.Fatalf("/healthz of a throttled client: %d", code)
	}

	r := startPublic(t, nil, bin, "--auth", users, "--auth-read")
	code, url, _ = r.request(t, "POST", "/", "private", "auth", "alice:s3cret")
	id = strings.TrimPrefix(strings.TrimSpace(url), r.base+"/")
	if code != 200 {
		t.Fatalf("POST with --auth-read: %d", code)
	}
	if code, _, _ := r.request(t, "GET", "/"+id+"?raw=true", ""); code != 401 {
		t.Fatalf("reading without a user, --auth-read: %d", code)
	}
	if code, body, _ := r.request(t, "GET", "/"+id+"?raw=true", "", "auth", "bob:hunter2"); code != 200 || body != "private" {
		t.Fatalf("reading as bob, --auth-read: %d %q", code, body)
	}
	if code, _, _ := r.request(t, "GET", "/healthz", ""); code != 200 {
		t.Fatalf("/healthz with --auth-read: %d", code)
	}
}

// TestRateLimitAndMetrics: --rate-limit 3/1m lets a client create 3
// pastes, then answers 429 with Retry-After; reading is not limited; a
// trusted proxy's X-Forwarded-For names the client, an untrusted peer's
// does not. /metrics, parsed by Prometheus' parser, counts it all, and
// the access log names each request without its query.
func TestRateLimitAndMetrics(t *testing.T) {
	require(t, false, "git")
	bin := buildPasteur(t)
	s := startPublic(t, nil, bin, "--rate-limit", "3/1m", "--trusted-proxy", "127.0.0.0/30")
	var id string
	for i := range 3 {
		code, body, _ := s.request(t, "POST", "/?hl=secretoption", fmt.Sprintf("paste %d", i))
		if code != 200 {
			t.Fatalf("paste %d: %d %s", i, code, body)
		}
		id = strings.TrimPrefix(strings.TrimSpace(body), s.base+"/")
	}
	code, body, h := s.request(t, "POST", "/", "one too many")
	if code != 429 || h.Get("Retry-After") != "20" {
		t.Fatalf("fourth paste: %d, Retry-After %q, %q; want 429, 20", code, h.Get("Retry-After"), body)
	}
	for range 5 {
		if code, _, _ := s.request(t, "GET", "/"+id+"?raw=true", ""); code != 200 {
			t.Fatalf("reading while limited: %d", code)
		}
	}
	// 127.0.0.1 is a trusted proxy: the client is the forwarded one.
	rejected := 1
	for i := range 4 {
		code, _, _ := s.request(t, "POST", "/", "via a proxy", "X-Forwarded-For", "198.51.100.7")
		if want := map[bool]int{true: 200, false: 429}[i < 3]; code != want {
			t.Fatalf("forwarded client, paste %d: %d, want %d", i, code, want)
		}
	}
	rejected++
	if code, _, _ := s.request(t, "POST", "/", "another", "X-Forwarded-For", "198.51.100.8"); code != 200 {
		t.Fatalf("another forwarded client: %d", code)
	}

	fams := s.scrape(t)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"pasteur_ratelimit_rejected_total", nil, float64(rejected)},
		{"pasteur_http_requests_total", []string{"route", "POST /{$}", "code", "429"}, float64(rejected)},
		{"pasteur_http_requests_total", []string{"route", "POST /{$}", "code", "200"}, 7},
		{"pasteur_http_requests_total", []string{"route", "GET /{id}", "code", "200"}, 5},
		{"pasteur_http_request_duration_seconds", []string{"route", "POST /{$}"}, float64(7 + rejected)},
		{"pasteur_paste_bytes", nil, 7},
		{"pasteur_git_committed_pastes_total", nil, 7},
	} {
		if got := metric(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := metric(fams, "pasteur_git_commits_total"); n < 1 || n > 7 {
		t.Errorf("pasteur_git_commits_total = %v, want 1 to 7 for 7 pastes", n)
	}
	for _, name := range []string{"pasteur_http_requests_in_flight", "go_goroutines", "process_open_fds", "pasteur_git_commit_seconds_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if code, _, _ := s.request(t, "GET", "/metrics", ""); code != 404 {
		t.Errorf("/metrics on the public address: %d, want 404", code)
	}

	log := s.log.waitFor(t, `msg=request`, `route="POST /{$}" status=429`, "client=198.51.100.7")
	if strings.Contains(log, "secretoption") || strings.Contains(log, "one too many") || strings.Contains(log, id+"?") {
		t.Errorf("access log shows a query or contents:\n%s", log)
	}
}

// burstReturn is how long pasteur takes to give back the memory of a
// burst once it ends (cmd/pasteur/memory.go: a busy second, then a quiet
// one): a figure of memory at rest waits that long first.
const burstReturn = 3 * time.Second

// rss is the resident memory of process pid, in bytes.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// idleConn opens a keep-alive connection from the loopback address from,
// makes one request on it and leaves it idle; nil when the server closed
// it or refused.
func idleConn(addr, from string) net.Conn {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp4", addr)
	if err != nil {
		return nil
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: pasteur\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	return c
}

// busyConn opens a connection that sends a POST's headers and part of its
// body, and stays in the middle of the request; nil when refused.
func busyConn(addr, from string) net.Conn {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp4", addr)
	if err != nil {
		return nil
	}
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: pasteur\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nstarted")
	return c
}

// openCount is how many of conns the server has not closed.
func openCount(conns []net.Conn) int {
	n := 0
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				mu.Lock()
				n++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return n
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// TestConnectionLimits: under an open-file limit of 256 (prlimit), the
// default --max-conns leaves room for the repository. 400 idle keep-alive
// connections do not stop a paste (idle ones are closed to make room),
// connections in the middle of a request fill the cap and the next is
// refused, and once they go the store works as before. With
// --max-conns-per-ip one address cannot take the server.
func TestConnectionLimits(t *testing.T) {
	require(t, false, "git", "prlimit")
	bin := buildPasteur(t)
	s := startPublic(t, []string{"prlimit", "--nofile=256:256", "--"}, bin, "--max-conns-per-ip", "150")
	addr := strings.TrimPrefix(s.base, "http://")
	s.log.waitFor(t, "max=192") // the limit derived from 256 files
	idleBefore := rss(t, s.pid)

	// 400 idle connections, from three addresses.
	var idle []net.Conn
	for i := range 400 {
		if c := idleConn(addr, fmt.Sprintf("127.0.0.%d", 1+i%3)); c != nil {
			idle = append(idle, c)
		}
	}
	defer closeAll(idle)
	if len(idle) != 400 {
		t.Fatalf("%d of 400 idle connections were served", len(idle))
	}
	if open := openCount(idle); open > 192 {
		t.Fatalf("%d idle connections open, over the cap of 192", open)
	}
	start := time.Now()
	if code, body, _ := s.request(t, "POST", "/", "at the cap"); code != 200 {
		t.Fatalf("paste with the server full of idle connections: %d %s", code, body)
	}
	t.Logf("a paste with 192 idle connections open took %s", time.Since(start))

	// Connections in the middle of a request are never closed: at the
	// cap, a new one is refused.
	closeAll(idle)
	var busy []net.Conn
	for i := range 192 {
		if c := busyConn(addr, fmt.Sprintf("127.0.0.%d", 1+i%2)); c != nil {
			busy = append(busy, c)
		}
	}
	defer closeAll(busy)
	time.Sleep(500 * time.Millisecond)
	if c := idleConn(addr, "127.0.0.3"); c != nil {
		c.Close()
		t.Fatal("a connection over the cap of busy ones was served")
	}
	// One address may hold 150: its 151st is refused even below the cap.
	closeAll(busy)
	busy = nil
	time.Sleep(500 * time.Millisecond)
	for range 150 {
		if c := busyConn(addr, "127.0.0.4"); c != nil {
			busy = append(busy, c)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if c := idleConn(addr, "127.0.0.4"); c != nil {
		c.Close()
		t.Fatal("the 151st connection of one address was served")
	}
	if code, _, _ := s.request(t, "POST", "/", "another address"); code != 200 {
		t.Fatalf("paste from another address: %d", code)
	}
	closeAll(busy)

	fams := s.scrape(t)
	if n := metric(fams, "pasteur_connections_rejected_total", "reason", "total"); n < 1 {
		t.Errorf("rejections for the total cap: %v", n)
	}
	if n := metric(fams, "pasteur_connections_rejected_total", "reason", "per_client"); n < 1 {
		t.Errorf("rejections for the per-client cap: %v", n)
	}
	if n := metric(fams, "pasteur_connections_evicted_total"); n < 200 {
		t.Errorf("evictions: %v, want at least 200", n)
	}
	if strings.Contains(s.log.String(), "too many open files") {
		t.Errorf("pasteur ran out of files:\n%s", s.log)
	}
	t.Logf("RSS %d MiB idle", idleBefore>>20)
}

// TestIdleConnectionsAtTheCap measures (figures in the log, no timing
// asserted) what 3000 idle keep-alive connections cost a server capped at
// 2000, and how long a normal request takes meanwhile.
func TestIdleConnectionsAtTheCap(t *testing.T) {
	require(t, false, "git")
	bin := buildPasteur(t)
	s := startPublic(t, nil, bin, "--max-conns", "2000", "--rate-limit", "5/1m")
	addr := strings.TrimPrefix(s.base, "http://")
	s.request(t, "GET", "/healthz", "")
	before := rss(t, s.pid)
	var idle []net.Conn
	defer func() { closeAll(idle) }()
	for i := range 3000 {
		if c := idleConn(addr, fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250)); c != nil {
			idle = append(idle, c)
		}
	}
	open := openCount(idle)
	after := rss(t, s.pid)
	var lat []time.Duration
	for range 50 {
		start := time.Now()
		if code, _, _ := s.request(t, "GET", "/healthz", ""); code != 200 {
			t.Fatalf("GET /healthz at the cap: %d", code)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	codes := map[int]int{}
	for range 8 {
		code, _, _ := s.request(t, "POST", "/", "x")
		codes[code]++
	}
	if open > 2000 || codes[429] != 3 {
		t.Errorf("%d idle open (cap 2000); pastes answered %v, want 3 of 429", open, codes)
	}
	t.Logf("3000 idle connections, %d left open at the cap of 2000: RSS %d MiB before, %d MiB at the cap (%.1f KiB each)",
		open, before>>20, after>>20, float64(after-before)/1024/float64(open))
	t.Logf("GET /healthz on a new connection meanwhile: median %s, max %s; 8 pastes at 5/1m: %v",
		lat[len(lat)/2], lat[len(lat)-1], codes)
}

// TestStalledReaders measures (figures in the log; memory bounded, no
// timing asserted) 300 clients that ask for a 1 MiB paste of '<' and
// never read the answer, as raw text, JSON and the page: the server's
// memory above idle, and the latency of other requests meanwhile.
func TestStalledReaders(t *testing.T) {
	require(t, false, "git")
	bin := buildPasteur(t)
	s := startPublic(t, nil, bin, "--max-size", strconv.Itoa(1<<20))
	code, url, _ := s.request(t, "POST", "/", strings.Repeat("<", 1<<20))
	if code != 200 {
		t.Fatalf("paste: %d", code)
	}
	id := strings.TrimPrefix(strings.TrimSpace(url), s.base+"/")
	addr := strings.TrimPrefix(s.base, "http://")
	for _, v := range []struct{ name, path, accept string }{
		{"raw", "/" + id + "?raw=true", "*/*"},
		{"json", "/" + id, "application/json"},
		{"page", "/" + id, "text/html"},
	} {
		t.Run(v.name, func(t *testing.T) {
			s.request(t, "GET", v.path, "", "Accept", v.accept) // warm the cache
			time.Sleep(burstReturn)
			idle := rss(t, s.pid)
			var stalled []net.Conn
			defer func() { closeAll(stalled) }()
			for i := range 300 {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("127.1.%d.%d", i/200, 1+i%200))}, Timeout: 5 * time.Second}
				c, err := d.Dial("tcp4", addr)
				if err != nil {
					t.Fatal(err)
				}
				c.(*net.TCPConn).SetReadBuffer(4096)
				fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: pasteur\r\nAccept: %s\r\n\r\n", v.path, v.accept)
				stalled = append(stalled, c)
			}
			time.Sleep(2 * time.Second)
			var lat []time.Duration
			for range 20 {
				start := time.Now()
				if code, _, _ := s.request(t, "GET", "/healthz", ""); code != 200 {
					t.Fatalf("/healthz: %d", code)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			held := rss(t, s.pid)
			t.Logf("%s: 300 stalled readers of 1 MiB of '<': RSS %d MiB idle, %d MiB stalled (+%d MiB); /healthz median %s, max %s",
				v.name, idle>>20, held>>20, (held-idle)>>20, lat[len(lat)/2], lat[len(lat)-1])
		})
	}
}

// TestMaxRepoSize: with --max-repo-size, pastes are taken until the
// repository holds that much, then refused with 507 and nothing written;
// reading goes on.
func TestMaxRepoSize(t *testing.T) {
	require(t, false, "git")
	bin := buildPasteur(t)
	s := startPublic(t, nil, bin, "--max-repo-size", "600K")
	var ids []string
	full, taken := false, 0
	for i := range 40 {
		body := fmt.Sprintf("%d %s", i, strings.Repeat(fmt.Sprintf("%x", i*7919), 20000))
		code, out, _ := s.request(t, "POST", "/", body)
		if code == 507 {
			full = strings.Contains(out, "full")
			break
		}
		if code != 200 {
			t.Fatalf("paste %d: %d %s", i, code, out)
		}
		ids = append(ids, strings.TrimPrefix(strings.TrimSpace(out), s.base+"/"))
		taken += len(body)
	}
	if !full || len(ids) == 0 {
		t.Fatalf("%d pastes taken, refused with 507: %v", len(ids), full)
	}
	waitOnBranch(t, s.data, ids[len(ids)-1])
	commits := git(t, s.data, "rev-list", "--count", "master")
	if code, _, _ := s.request(t, "POST", "/", "one more"); code != 507 {
		t.Fatalf("once full: %d", code)
	}
	time.Sleep(500 * time.Millisecond) // a logged paste would be committed by then
	if after := git(t, s.data, "rev-list", "--count", "master"); after != commits {
		t.Fatalf("a refused paste was committed: %s commits, then %s", strings.TrimSpace(commits), strings.TrimSpace(after))
	}
	if code, _, _ := s.request(t, "GET", "/"+ids[0]+"?raw=true", ""); code != 200 {
		t.Fatalf("reading when full: %d", code)
	}
	t.Logf("%d pastes, %d bytes, taken before 507 (bound 600 KiB)", len(ids), taken)
}
