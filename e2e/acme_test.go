package e2e

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// TestACMEHTTP01 is the operator's first HTTPS start: pasteur on its own
// stack gets a certificate from Pebble with the http-01 challenge on port
// 80, serves HTTPS that a client verifies up to Pebble's root for the host
// name, redirects port 80 to https, and on a restart reuses the cached
// certificate without a new order. No host IP socket is ever opened.
func TestACMEHTTP01(t *testing.T) {
	b := newACMEBed(t, "h1", 24*time.Hour)
	p := b.startPasteur(t, "first")
	h := p.waitCert(t, 60*time.Second)
	p.waitLog(t, "answering http-01 challenge", time.Second)
	root := b.pebbleRoot(t)

	page, err := b.curlHTTPS(root, "/")
	if err != nil || !strings.Contains(page, `name="paste"`) {
		t.Fatalf("GET https://%s/: %v\n%s", host, err, page)
	}
	content := "over TLS, through netstack"
	out, err := b.curlHTTPS(root, "/", "-F", "paste="+content)
	url := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(url, "https://"+host+"/") {
		t.Fatalf("POST over HTTPS: %v %q", err, out)
	}
	if raw, err := b.curlHTTPS(root, strings.TrimPrefix(url, "https://"+host)+"?raw=true"); err != nil || raw != content {
		t.Fatalf("paste over HTTPS: %v %q", err, raw)
	}
	// A wrong name fails verification: the check above was real.
	if _, err := b.Run(b.Bridge, "curl", "-sS", "-m", "10", "--cacert", root, "--resolve", "wrong."+zone+":443:"+testbed.TapAddr,
		"https://wrong."+zone+"/"); err == nil {
		t.Errorf("curl accepted the certificate for another name")
	}

	// Port 80 redirects everything but the challenges to https.
	out, err = b.Run(b.Bridge, "curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
		"-H", "Host: "+host, "http://"+testbed.TapAddr+"/abc?raw=true")
	if err != nil || out != "301 https://"+host+"/abc?raw=true" {
		t.Errorf("port 80: %q %v, want a 301 to https", out, err)
	}
	orders := b.orders(t)
	if orders != 1 {
		t.Errorf("Pebble saw %d orders, want 1", orders)
	}
	p.stop(t)

	// A restart takes the certificate from --cert-dir: same serial, no
	// new order.
	p = b.startPasteur(t, "second")
	h2 := p.waitCert(t, 20*time.Second)
	p.waitLog(t, "certificate loaded from the cache", time.Second)
	if h2.HTTPS.Serial != h.HTTPS.Serial || !h2.HTTPS.FromCache {
		t.Errorf("after restart: serial %s from cache %v, want %s from the cache", h2.HTTPS.Serial, h2.HTTPS.FromCache, h.HTTPS.Serial)
	}
	if _, err := b.curlHTTPS(root, "/"); err != nil {
		t.Errorf("HTTPS after restart: %v", err)
	}
	time.Sleep(time.Second)
	if n := b.orders(t); n != orders {
		t.Errorf("Pebble saw %d orders after the restart, want %d", n, orders)
	}
	p.stop(t)
}

// TestACMETLSALPN01 gets the certificate with the tls-alpn-01 challenge:
// Pebble validates on pasteur's port 443, through netstack.
func TestACMETLSALPN01(t *testing.T) {
	b := newACMEBed(t, "t1", 24*time.Hour)
	p := b.startPasteur(t, "alpn", "--challenge", "tls-alpn-01")
	p.waitCert(t, 60*time.Second)
	p.waitLog(t, "answering tls-alpn-01 challenge", time.Second)
	if strings.Contains(readFile(t, p.log), "answering http-01") {
		t.Errorf("http-01 answered with --challenge tls-alpn-01")
	}
	root := b.pebbleRoot(t)
	if page, err := b.curlHTTPS(root, "/"); err != nil || !strings.Contains(page, `name="paste"`) {
		t.Fatalf("GET https://%s/: %v\n%s", host, err, page)
	}
	p.stop(t)
}

// TestACMEDNS01 gets the certificate with the dns-01 challenge: pasteur
// adds the TXT record to BIND with an RFC 2136 update signed with the TSIG
// key, through netstack; Pebble reads it from BIND; the record is removed
// afterwards. With --account-seed and --cert-seed, a second instance with
// an empty cache uses the same account and the same certificate key.
func TestACMEDNS01(t *testing.T) {
	b := newACMEBed(t, "d1", 24*time.Hour)
	seeds := []string{"--account-seed", "an account seed of 32 bytes, ok!", "--cert-seed", "a certificate seed, 16+ bytes"}
	dir1 := t.TempDir()
	p := b.startPasteur(t, "dns", append([]string{"--dns-key", b.tsig, "--dns-addr", testbed.BridgeAddr, "--cert-dir", dir1}, seeds...)...)
	p.waitCert(t, 60*time.Second)
	p.waitLog(t, "dns-01 record added", time.Second)
	p.waitLog(t, "dns-01 record removed", 10*time.Second)
	root := b.pebbleRoot(t)
	if page, err := b.curlHTTPS(root, "/"); err != nil || !strings.Contains(page, `name="paste"`) {
		t.Fatalf("GET https://%s/: %v\n%s", host, err, page)
	}
	// BIND took an update (its journal) and no longer has the record.
	if !fileExists(b.dir + "/bind/" + zone + ".zone.jnl") {
		t.Errorf("BIND has no journal: it took no dynamic update")
	}
	out, err := b.Run(b.Bridge, "dig", "+short", "+time=2", "+tries=2", "@"+testbed.BridgeAddr, "TXT", "_acme-challenge."+host)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("dig TXT _acme-challenge.%s after issuance: %q %v, want nothing", host, out, err)
	}
	if strings.Contains(readFile(t, p.log), "answering http-01") {
		t.Errorf("http-01 answered with --challenge dns-01")
	}
	p.stop(t)

	// Stateless: the same seeds, no cache.
	dir2 := t.TempDir()
	p = b.startPasteur(t, "dns-seeded", append([]string{"--dns-key", b.tsig, "--dns-addr", testbed.BridgeAddr, "--cert-dir", dir2}, seeds...)...)
	p.waitCert(t, 60*time.Second)
	p.waitLog(t, "using the existing ACME account", time.Second)
	k1, k2 := cachedPublicKey(t, dir1), cachedPublicKey(t, dir2)
	if !k1.Equal(k2) {
		t.Errorf("two certificates from the same --cert-seed have different keys")
	}
	p.stop(t)
}

// cachedPublicKey returns the public key of the certificate cached in dir.
func cachedPublicKey(t *testing.T, dir string) interface{ Equal(crypto.PublicKey) bool } {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, host+"+*.pem"))
	if len(files) != 1 {
		t.Fatalf("%d certificates cached in %s, want 1", len(files), dir)
	}
	rest := []byte(readFile(t, files[0]))
	for {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			t.Fatalf("no certificate in %s", files[0])
		}
		if blk.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return c.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
		}
	}
}

// TestACMEErrors: what an operator sees when something is wrong. Each case
// starts pasteur, waits for its first failed attempt, and checks the log
// line and /healthz (503, the error shown).
func TestACMEErrors(t *testing.T) {
	b := newACMEBed(t, "e1", 24*time.Hour)
	name, alg, secret := strings.Split(b.tsig, ":")[0], strings.Split(b.tsig, ":")[1], strings.Split(b.tsig, ":")[2]
	wrongSecret := "c2VjcmV0IHRoYXQgQklORCBkb2VzIG5vdCBrbm93IGF0IGFsbA=="
	tests := []struct {
		name string
		args []string
		want []string // in the error
	}{
		{"unreachable CA", []string{"--acme-directory", "https://" + testbed.BridgeAddr + ":14999/dir"},
			[]string{"cannot reach the CA", ":14999", "refused"}},
		{"rejected http-01", []string{"--hostname", elsewhere},
			[]string{"the CA rejected the challenge", "http-01 for " + elsewhere, "connection"}},
		{"wrong TSIG secret", []string{"--dns-key", name + ":" + alg + ":" + wrongSecret, "--dns-addr", testbed.BridgeAddr},
			[]string{"rejected the TSIG key", "BADSIG"}},
		{"unknown TSIG key", []string{"--dns-key", "nosuchkey:" + alg + ":" + secret, "--dns-addr", testbed.BridgeAddr},
			[]string{"rejected the TSIG key", "BADKEY"}},
		{"update refused", []string{"--hostname", elsewhere, "--dns-key", b.tsig, "--dns-addr", testbed.BridgeAddr},
			[]string{"refused the update", "REFUSED", "_acme-challenge." + elsewhere}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.startPasteur(t, "err"+string(rune('a'+i)), append(tt.args, "--cert-dir", t.TempDir())...)
			line := p.waitLog(t, "cannot obtain a certificate", 30*time.Second)
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("error line lacks %q:\n%s", w, line)
				}
			}
			code, h := p.healthz(t)
			if code != "503" || h.HTTPS.Valid || !strings.Contains(h.HTTPS.LastError, tt.want[0]) {
				t.Errorf("/healthz: %s %+v, want 503 and the error", code, h)
			}
			t.Logf("%s: %s", tt.name, h.HTTPS.LastError)
			p.stop(t)
		})
	}
}

// TestACMERenewal: with 30-second certificates (renewal due after 20 s,
// leaving 10 s for it on a loaded machine), pasteur renews in the
// process when a third of the lifetime is left; a client polling over
// HTTPS meanwhile is shown the new certificate without a failed request,
// and the process never restarts.
func TestACMERenewal(t *testing.T) {
	b := newACMEBed(t, "r1", 30*time.Second)
	p := b.startPasteur(t, "renew")
	first := p.waitCert(t, 60*time.Second).HTTPS.Serial
	root := b.pebbleRoot(t)
	serials := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	requests, after := 0, 0
	for ; after < 10; requests++ {
		if time.Now().After(deadline) {
			t.Fatalf("no new certificate served within 60 s; serials seen %v", serials)
		}
		out, err := b.curlHTTPS(root, "/healthz", "-o", "/dev/null", "-w", "%{certs}")
		if err != nil {
			t.Fatalf("request %d failed during renewal: %v", requests, err)
		}
		s := servedSerial(out)
		if s == "" {
			t.Fatalf("request %d: curl shows no serial:\n%s", requests, out)
		}
		serials[s]++
		if len(serials) > 1 {
			after++
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(serials) != 2 || serials[normSerial(first)] == 0 {
		t.Errorf("serials served %v, want the first (%s) then one more", serials, first)
	}
	select {
	case <-p.exited:
		t.Fatal("pasteur exited")
	default:
	}
	if n := strings.Count(readFile(t, p.log), "certificate obtained"); n < 2 {
		t.Errorf("%d certificates obtained, want 2 or more", n)
	}
	if strings.Contains(readFile(t, p.log), "cannot obtain") {
		t.Errorf("a renewal attempt failed")
	}
	t.Logf("%d requests over HTTPS, all verified; serials served: %v", requests, serials)
	p.stop(t)
}

// servedSerial returns the leaf's serial from curl's %{certs}.
func servedSerial(certs string) string {
	for _, l := range strings.Split(certs, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Serial Number:"); ok {
			return normSerial(v)
		}
	}
	return ""
}

// normSerial writes a hex serial the way both curl and /healthz can be
// compared: lower case, no colons, no leading zeros.
func normSerial(s string) string {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	return strings.TrimLeft(s, "0")
}
