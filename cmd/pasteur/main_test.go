package main

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the one-line error
	}{
		{[]string{"--nosuchflag"}, "nosuchflag"},
		{[]string{"--port", "0"}, "--port"},
		{[]string{"--port", "x"}, "port"},
		{[]string{"--tap", "tap100"}, "--tap needs --ipv4"},
		{[]string{"--tap", "tap100", "--ipv4", "10.0.0.3"}, "--ipv4"},
		{[]string{"--tap", "tap100", "--ipv4", "10.0.0.3/24", "--ipv4-gateway", "10.1.0.1"}, "outside"},
		{[]string{"--ipv4", "10.0.0.3/24"}, "add --tap"},
		{[]string{"--length", "3"}, "guessable"},
		{[]string{"--data", ""}, "in memory"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--ack", "later"}, "--ack \"later\""},
		{[]string{"--ack", "disk", "--data", "", "--remote", "git://h/p.git"}, "write-ahead log"},
		{[]string{"--shards", "2", "--remote", "git://h/pastes.git"}, "{shard}"},
		{[]string{"--remote", "git://h/pastes-{shard}.git"}, "--shards"},
		{[]string{"--shards", "2", "--remote", "git://h/p-{shard}.git", "--prefer-shard", "2"}, "--prefer-shard 2"},
		{[]string{"--shards", "37", "--remote", "git://h/p-{shard}.git"}, "--shards 37"},
		{[]string{"--shards", "2", "--remote", "https://u:pw@h/p-{shard}.git"}, "--remote-token-file"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--max-conns", "-1"}, "--max-conns"},
		{[]string{"--max-conns-per-ip", "-2"}, "--max-conns-per-ip"},
		{[]string{"--rate-limit", "30"}, "--rate-limit"},
		{[]string{"--rate-limit", "0/1m"}, "--rate-limit"},
		{[]string{"--trusted-proxy", "proxy.example"}, "trusted-proxy"},
		{[]string{"--auth-read"}, "--auth"},
		{[]string{"--metrics-addr", "localhost:9100"}, "--metrics-addr"},
		{[]string{"--metrics-addr", "127.0.0.1"}, "--metrics-addr"},
		{[]string{"--max-repo-size", "lots"}, "--max-repo-size"},
		{[]string{"--max-repo-size", "10P"}, "--max-repo-size"},
		{[]string{"--max-repo-size", "1G", "--data", "", "--remote", "git://h/r"}, "--max-repo-size"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			last := lastLine(errb.String())
			if code != exitUsage || !strings.Contains(last, tt.want) || !strings.HasPrefix(last, "pasteur: ") {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errb.String(), exitUsage, tt.want)
			}
		})
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, &out, &errb); code != exitOK {
		t.Fatalf("--help exits %d", code)
	}
	for _, f := range []string{"-tap", "-ipv4", "-ipv4-gateway", "-remote", "-r ", "-port", "-p ", "-bind", "-data", "-length", "-max-size", "-max-conns", "-max-conns-per-ip", "-rate-limit", "-trusted-proxy", "-auth", "-auth-read", "-metrics-addr", "-max-repo-size"} {
		if !strings.Contains(errb.String()+out.String(), f) {
			t.Errorf("--help does not document %s", f)
		}
	}
}

func TestTapThatCannotOpen(t *testing.T) {
	var out, errb bytes.Buffer
	// Longer than the 15 bytes Linux allows in an interface name.
	code := run([]string{"--tap", "no-such-tap-device-name", "--ipv4", "10.0.0.3/24", "--data", t.TempDir()}, &out, &errb)
	if code != exitRuntime || strings.Count(strings.TrimSpace(lastLine(errb.String())), "\n") != 0 || !strings.Contains(errb.String(), "no-such-tap-device-name") {
		t.Fatalf("exit %d, stderr %q; want %d and a line naming the device", code, errb.String(), exitRuntime)
	}
}

func TestConnsForFiles(t *testing.T) {
	for _, tt := range []struct{ nofile, want int }{
		{64, 1}, {256, 192}, {512, 384}, {1024, 768}, {8192, 4096}, {1 << 20, 4096},
	} {
		if got := connsForFiles(tt.nofile); got != tt.want {
			t.Errorf("connsForFiles(%d) = %d, want %d", tt.nofile, got, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{{"100", 100}, {"10K", 10 << 10}, {"500M", 500 << 20}, {"10G", 10 << 30}, {"1T", 1 << 40}, {"2GiB", 2 << 30}, {"3mb", 3 << 20}, {" 7 ", 7}} {
		if got, err := parseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "G", "-1", "1.5G", "10P", "99999999999T", "1 G B"} {
		if n, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, n)
		}
	}
}

func TestRouteNames(t *testing.T) {
	name := newRouteNamer()
	for _, tt := range []struct{ method, path, want string }{
		{"GET", "/", "GET /{$}"},
		{"POST", "/", "POST /{$}"},
		{"GET", "/abc123", "GET /{id}"},
		{"HEAD", "/abc123", "GET /{id}"},
		{"GET", "/static/x/y.js", "GET /static/"},
		{"GET", "/healthz", "GET /healthz"},
		{"GET", "/a/b/c", "other"},
		{"DELETE", "/abc", "other"},
	} {
		if got := name(httptest.NewRequest(tt.method, tt.path, nil)); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
