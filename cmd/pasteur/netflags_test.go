package main

import (
	"bytes"
	"io"
	"net/netip"
	"strings"
	"testing"
)

func TestNetworkFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error; "" for none
	}{
		{[]string{"--tap", "tap100"}, "--tap needs --ipv4"},
		{[]string{"--tap", "tap100", "--ipv6", "fd00::3/64"}, ""},
		{[]string{"--tap", "tap100", "--ipv6", "fd00::3/64", "--ipv6-gateway", "fd00::1", "--dns-server", "fd00::1"}, ""},
		{[]string{"--tap", "tap100", "--ipv6", "fd00::3/64", "--ipv6-gateway", "fe80::1"}, ""},
		{[]string{"--tap", "tap100", "--dhcp"}, ""},
		{[]string{"--tap", "tap100", "--accept-router-advertisements"}, ""},
		{[]string{"--tap", "tap100", "--dhcp", "--accept-router-advertisements", "--ipv6", "fd00::3/64"}, ""},
		{[]string{"--tap", "tap100", "--ipv4", "10.0.0.3/24", "--ipv6", "fd00::3/64", "--ipv4-gateway", "10.0.0.1", "--ipv6-gateway", "fd00::1"}, ""},
		{[]string{"--tap", "tap100", "--ipv6", "fd00::3"}, "--ipv6"},
		{[]string{"--tap", "tap100", "--ipv6", "10.0.0.3/24"}, "--ipv6"},
		{[]string{"--tap", "tap100", "--ipv6", "fe80::3/64"}, "unicast"},
		{[]string{"--tap", "tap100", "--ipv4", "fd00::3/64"}, "--ipv4"},
		{[]string{"--tap", "tap100", "--ipv6", "fd00::3/64", "--ipv6-gateway", "fd01::1"}, "outside"},
		{[]string{"--tap", "tap100", "--ipv6", "fd00::3/64", "--ipv6-gateway", "10.0.0.1"}, "--ipv6-gateway"},
		{[]string{"--tap", "tap100", "--accept-router-advertisements", "--ipv6-gateway", "fd00::1"}, "needs --ipv6"},
		{[]string{"--tap", "tap100", "--dhcp", "--ipv4-gateway", "10.0.0.1"}, "needs --ipv4"},
		{[]string{"--tap", "tap100", "--dhcp", "--ipv4", "10.0.0.3/24"}, "exclude"},
		{[]string{"--tap", "tap100", "--dhcp", "--dns-server", "resolver"}, "--dns-server"},
		{[]string{"--dhcp"}, "add --tap"},
		{[]string{"--ipv6", "fd00::3/64"}, "add --tap"},
		{[]string{"--accept-router-advertisements"}, "add --tap"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseServeFlags(tt.args, io.Discard)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}

func TestNetworkFlagValues(t *testing.T) {
	c, err := parseServeFlags([]string{"--tap", "tap100", "--ipv6", "fd00::3/64", "--ipv6-gateway", "fd00::1",
		"--dhcp", "--accept-router-advertisements", "--dns-server", "fd00::53"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n := c.net
	if n.ipv6 != netip.MustParsePrefix("fd00::3/64") || n.gateway6 != netip.MustParseAddr("fd00::1") ||
		!n.dhcp || !n.acceptRA || n.dns != netip.MustParseAddr("fd00::53") || n.ipv4.IsValid() {
		t.Errorf("parsed %+v", n)
	}
	var out bytes.Buffer
	parseServeFlags([]string{"--help"}, &out)
	for _, f := range []string{"-ipv6 ", "-ipv6-gateway", "-dhcp", "-accept-router-advertisements", "-dns-server"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("--help does not document %s", f)
		}
	}
}

func TestStableMAC(t *testing.T) {
	a, b := stableMAC("tap100"), stableMAC("tap101")
	if a.String() != stableMAC("tap100").String() {
		t.Error("the MAC changes between calls")
	}
	if a.String() == b.String() {
		t.Error("two devices get the same MAC")
	}
	if a[0]&1 != 0 || a[0]&2 == 0 {
		t.Errorf("MAC %v is not unicast and locally administered", a)
	}
}
