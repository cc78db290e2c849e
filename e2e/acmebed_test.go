package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// The HTTPS deployment: BIND authoritative for zone on the bridge's
// address, Pebble beside it, pasteur at host on the TAP device.
const (
	zone      = "example.test"
	host      = "paste." + zone // A 10.0.0.3: pasteur
	elsewhere = "other." + zone // A 10.0.0.1: nothing listens on port 80 there
	tsigName  = "pasteur-key"
	pebbleDir = "https://" + testbed.BridgeAddr + ":14000/dir"
)

// acmeBed is the testbed plus a DNS server and a CA in the bridge
// namespace: BIND 9 serving zone (updates allowed for
// _acme-challenge.host with the TSIG key tsig) and Pebble, which resolves
// names through BIND and validates challenges on ports 80 and 443.
type acmeBed struct {
	*testbed.Bed
	dir       string
	bin       string // pasteur
	caFile    string // the root of Pebble's own HTTPS certificate: --acme-ca-file
	tsig      string // NAME:ALG:SECRET for --dns-key
	pebbleLog string
}

// newACMEBed builds the deployment. validity is the lifetime of Pebble's
// certificates.
func newACMEBed(t *testing.T, name string, validity time.Duration) *acmeBed {
	t.Helper()
	require(t, true, "strace", "curl", "named", "tsig-keygen", "dig")
	pebble := pebblePath(t)
	b := &acmeBed{dir: t.TempDir(), bin: buildPasteur(t)}
	bed, err := testbed.New(name)
	if err != nil {
		t.Fatal(err)
	}
	b.Bed = bed
	t.Cleanup(bed.Close)
	b.startBIND(t)
	b.startPebble(t, pebble, validity)
	return b
}

// pebblePath finds the pebble binary where `go install` puts it.
func pebblePath(t *testing.T) string {
	t.Helper()
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(string(out), "\n")
		if lines[0] != "" {
			dirs = append(dirs, lines[0])
		}
		if len(lines) > 1 && lines[1] != "" {
			dirs = append(dirs, filepath.Join(strings.Split(lines[1], string(os.PathListSeparator))[0], "bin"))
		}
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "pebble"); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath("pebble"); err == nil {
		return p
	}
	require(t, true, "pebble")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// startBIND writes a TSIG key with tsig-keygen, the zone and named.conf,
// and runs named in the bridge namespace.
func (b *acmeBed) startBIND(t *testing.T) {
	t.Helper()
	key, err := exec.Command("tsig-keygen", "-a", "hmac-sha256", tsigName).Output()
	if err != nil {
		t.Fatalf("tsig-keygen: %v", err)
	}
	m := regexp.MustCompile(`secret "([^"]+)"`).FindSubmatch(key)
	if m == nil {
		t.Fatalf("tsig-keygen printed no secret:\n%s", key)
	}
	b.tsig = tsigName + ":hmac-sha256:" + string(m[1])
	dir := filepath.Join(b.dir, "bind")
	writeFile(t, filepath.Join(dir, "pasteur.key"), string(key))
	writeFile(t, filepath.Join(dir, zone+".zone"), fmt.Sprintf(`$TTL 60
@	IN SOA ns.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 60
@	IN NS ns.%[1]s.
ns	IN A %[2]s
paste	IN A %[3]s
other	IN A %[2]s
paste6	IN AAAA %[4]s
`, zone, testbed.BridgeAddr, testbed.TapAddr, testbed.TapAddr6))
	writeFile(t, filepath.Join(dir, "named.conf"), fmt.Sprintf(`options {
	directory "%[1]s";
	pid-file none;
	listen-on port 53 { %[2]s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
controls { };
include "%[1]s/pasteur.key";
zone "%[3]s" {
	type primary;
	file "%[1]s/%[3]s.zone";
	update-policy { grant %[4]s name _acme-challenge.%[5]s. TXT; };
};
`, dir, testbed.BridgeAddr, zone, tsigName, host))
	named := b.Command(b.Bridge, "named", "-g", "-4", "-c", filepath.Join(dir, "named.conf"))
	logf := createFile(t, filepath.Join(b.dir, "named.log"))
	named.Stdout, named.Stderr = logf, logf
	if err := b.Start(named); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitTCP(b.Bridge, testbed.BridgeAddr+":53", 15*time.Second); err != nil {
		t.Fatalf("%v\nnamed's log:\n%s", err, readFile(t, logf.Name()))
	}
}

// startPebble makes Pebble an HTTPS certificate for the bridge's address
// (signed by a root written to caFile) and runs Pebble in the bridge
// namespace.
func (b *acmeBed) startPebble(t *testing.T, pebble string, validity time.Duration) {
	t.Helper()
	dir := filepath.Join(b.dir, "pebble")
	b.caFile = filepath.Join(dir, "ca.pem")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeServerCert(t, b.caFile, certFile, keyFile, net.ParseIP(testbed.BridgeAddr))
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  testbed.BridgeAddr + ":14000",
		"managementListenAddress":        testbed.BridgeAddr + ":15000",
		"certificate":                    certFile,
		"privateKey":                     keyFile,
		"httpPort":                       80,
		"tlsPort":                        443,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
		"profiles": map[string]any{
			"default": map[string]any{"description": "test", "validityPeriod": int(validity / time.Second)},
		},
	}}
	js, _ := json.MarshalIndent(cfg, "", "  ")
	writeFile(t, filepath.Join(dir, "pebble.json"), string(js))
	cmd := b.Command(b.Bridge, "env", "PEBBLE_VA_NOSLEEP=1", pebble,
		"-config", filepath.Join(dir, "pebble.json"), "-dnsserver", testbed.BridgeAddr+":53")
	b.pebbleLog = filepath.Join(b.dir, "pebble.log")
	logf := createFile(t, b.pebbleLog)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := b.Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitTCP(b.Bridge, testbed.BridgeAddr+":14000", 15*time.Second); err != nil {
		t.Fatalf("%v\npebble's log:\n%s", err, readFile(t, b.pebbleLog))
	}
}

// pebbleRoot fetches the root Pebble issues under (new at each start) from
// its management interface, and returns the file it wrote it to.
func (b *acmeBed) pebbleRoot(t *testing.T) string {
	t.Helper()
	p := filepath.Join(b.dir, "pebble-root.pem")
	if _, err := b.Run(b.Bridge, "curl", "-sS", "--fail", "-m", "10", "--cacert", b.caFile, "-o", p,
		"https://"+testbed.BridgeAddr+":15000/roots/0"); err != nil {
		t.Fatal(err)
	}
	return p
}

// orders counts the orders Pebble has received so far.
func (b *acmeBed) orders(t *testing.T) int {
	return strings.Count(readFile(t, b.pebbleLog), "Added order")
}

// startPasteur runs pasteur under strace with --https for host against
// Pebble, plus args, and waits until port 80 accepts.
func (b *acmeBed) startPasteur(t *testing.T, name string, args ...string) *pasteur {
	t.Helper()
	base := []string{"--data", filepath.Join(b.dir, "data"), "--https", "--email", "test@" + zone,
		"--acme-directory", pebbleDir, "--acme-ca-file", b.caFile, "--log-level", "debug"}
	if !slices.Contains(args, "--hostname") {
		base = append(base, "--hostname", host)
	}
	return startPasteur(t, b.Bed, pasteurRun{bin: b.bin, name: name, args: append(base, args...), strace: true, port: "80"})
}

// waitLog waits until pasteur's log has a line containing want, and
// returns that line.
func (p *pasteur) waitLog(t *testing.T, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, l := range strings.Split(readFile(t, p.log), "\n") {
			if strings.Contains(l, want) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, pasteur's log has no %q:\n%s", timeout, want, readFile(t, p.log))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// healthz returns pasteur's detailed /healthz, read on its metrics
// address.
func (p *pasteur) healthz(t *testing.T) (code string, h healthBody) {
	t.Helper()
	out, _ := p.bed.Run(p.bed.Bridge, "curl", "-sS", "-m", "10", "-w", "\n%{http_code}", "http://"+testbed.TapAddr+metricsPort+"/healthz")
	out = strings.TrimSpace(out)
	i := strings.LastIndex(out, "\n")
	if i < 0 {
		// No answer yet (curl's code 000): the metrics address is
		// opened after the stack and the store, under load a moment
		// after the log's first lines.
		return out, h
	}
	body, code := out[:i], out[i+1:]
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz: %q: %v", out, err)
	}
	return code, h
}

// healthBody is what /healthz answers with --https.
type healthBody struct {
	Status string `json:"status"`
	HTTPS  struct {
		Valid       bool      `json:"valid"`
		Serial      string    `json:"serial"`
		NotAfter    time.Time `json:"not_after"`
		LastRenewal time.Time `json:"last_renewal"`
		FromCache   bool      `json:"from_cache"`
		LastError   string    `json:"last_error"`
	} `json:"https"`
}

// waitCert waits until /healthz shows a valid certificate.
func (p *pasteur) waitCert(t *testing.T, timeout time.Duration) healthBody {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, h := p.healthz(t)
		if code == "200" && h.HTTPS.Valid {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate after %s: /healthz %s %+v", timeout, code, h)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// curlHTTPS runs curl in the bridge namespace against https://host/path,
// resolving host to pasteur and verifying the chain up to root.
func (b *acmeBed) curlHTTPS(root, path string, args ...string) (string, error) {
	base := []string{"curl", "-sS", "--fail-with-body", "-m", "10", "--cacert", root,
		"--resolve", host + ":443:" + testbed.TapAddr}
	return b.Run(b.Bridge, append(append(base, args...), "https://"+host+path)...)
}

// writeServerCert makes a root and a server certificate for ip.
func writeServerCert(t *testing.T, caFile, certFile, keyFile string, ip net.IP) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pasteur test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip.String()},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{ip}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	writeFile(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
}
