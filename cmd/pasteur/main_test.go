package main

import (
	"bytes"
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
		{[]string{"--log-level", "loud"}, "--log-level"},
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
	for _, f := range []string{"-tap", "-ipv4", "-ipv4-gateway", "-remote", "-r ", "-port", "-p ", "-bind", "-data", "-length", "-max-size"} {
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

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
