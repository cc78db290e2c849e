package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// host6 has an AAAA record only (fd00::3): the CA can reach it over IPv6
// alone.
const host6 = "paste6." + zone

// TestACMEOverIPv6: Pebble validates the http-01 challenge on pasteur's
// IPv6 address, the only one its name has, and the certificate then
// serves HTTPS over IPv6; all through pasteur's stack.
func TestACMEOverIPv6(t *testing.T) {
	b := newACMEBed(t, "h6", 24*time.Hour)
	p := b.startPasteur(t, "ipv6", "--hostname", host6, "--ipv6", testbed.TapAddr6+testbed.Prefix6)
	p.waitCert(t, 60*time.Second)
	line := p.waitLog(t, "answering http-01 challenge", time.Second)
	root := b.pebbleRoot(t)
	if !strings.Contains(readFile(t, b.pebbleLog), host6) {
		t.Errorf("Pebble's log does not name %s", host6)
	}
	page, err := b.Run(b.Bridge, "curl", "-sS", "--fail-with-body", "-m", "10", "--cacert", root,
		"--resolve", host6+":443:["+testbed.TapAddr6+"]", "https://"+host6+"/")
	if err != nil || !strings.Contains(page, `name="paste"`) {
		t.Fatalf("GET https://%s/ over IPv6: %v\n%s\n(challenge: %s)", host6, err, page, line)
	}
	p.stop(t)
}
