package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// put pastes content through curl in the bridge namespace and returns the
// id.
func put(t *testing.T, bed *testbed.Bed, content string) string {
	t.Helper()
	base := "http://" + testbed.TapAddr + ":4343"
	out, err := bed.Run(bed.Bridge, "curl", "-sS", "--fail-with-body", "-m", "30", "-F", "paste="+content, base+"/")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(strings.TrimSpace(out), base+"/")
}

// startPeer starts a command in the bridge namespace and waits for addr.
func startPeer(t *testing.T, bed *testbed.Bed, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := bed.Command(bed.Bridge, args...)
	cmd.Stderr = os.Stderr
	if err := bed.Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := bed.WaitTCP(bed.Bridge, addr, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestSSHRemote: pasteur pushes over ssh, through its own stack, to
// OpenSSH's sshd running git-shell, signing in with a key derived from
// --ssh-seed and pinning the host key with --ssh-auth; a server whose host
// key is not the pinned one is refused.
func TestSSHRemote(t *testing.T) {
	require(t, true, "git", "curl", "ssh-keygen", "/usr/sbin/sshd", "git-shell")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pastes.git")

	// The client key, from a seed, authorized for git-shell only.
	seed := "e2e-seed-0123456789abcdef"
	pub, err := exec.Command(bin, "keygen", "--ssh-seed", seed).Output()
	if err != nil {
		t.Fatal("pasteur keygen:", err)
	}
	ak := filepath.Join(tmp, "authorized_keys")
	if err := os.WriteFile(ak, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	hostKey := filepath.Join(tmp, "host_ed25519")
	otherKey := filepath.Join(tmp, "other_ed25519")
	for _, k := range []string{hostKey, otherKey} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
	}
	fp := func(k string) string {
		out, err := exec.Command("ssh-keygen", "-lf", k+".pub").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(string(out))[1]
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(tmp, "sshd_config")
	conf := strings.Join([]string{
		"Port 2222", "ListenAddress " + testbed.BridgeAddr, "HostKey " + hostKey,
		"AuthorizedKeysFile " + ak, "PermitRootLogin prohibit-password", "PasswordAuthentication no",
		"KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "PidFile none",
		`ForceCommand /usr/bin/git-shell -c "$SSH_ORIGINAL_COMMAND"`, "LogLevel VERBOSE", "",
	}, "\n")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	bed, err := testbed.New("ssh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	startPeer(t, bed, testbed.BridgeAddr+":2222", "/usr/sbin/sshd", "-D", "-e", "-f", cfg)
	remote := "ssh://root@" + testbed.BridgeAddr + ":2222" + bare

	// A host key other than the pinned one: refused at start.
	bad := startPasteur(t, bed, pasteurRun{bin: bin, name: "wrong-host-key", exits: true, args: []string{"--remote", remote,
		"--ssh-seed", seed, "--ssh-auth", fp(otherKey), "--data", filepath.Join(tmp, "data-bad")}})
	if code := bad.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(readFile(t, bad.log), "host key") {
		t.Fatalf("with a wrong pinned host key: exit %d", code)
	}
	t.Logf("wrong host key: %s", lastLine(readFile(t, bad.log)))

	startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur", args: []string{"--remote", remote,
		"--ssh-seed", seed, "--ssh-auth", fp(hostKey), "--data", filepath.Join(tmp, "data")}})
	for _, content := range []string{"over ssh", "and again"} {
		id := put(t, bed, content)
		if got := git(t, bare, "show", "master:"+pathOf(t, bare, id)); !strings.Contains(got, content) {
			t.Fatalf("remote holds %q", got)
		}
	}
	// The second push was thin (its trees deltas against the first's):
	// git completed it into a whole repository. (The empty tree of the
	// first commit is written first: git never stores it.)
	git(t, bare, "hash-object", "-t", "tree", "-w", "/dev/null")
	fsck(t, bare, "--strict")
	health, err := bed.Run(bed.Bridge, "curl", "-sS", "-m", "10", "http://"+testbed.TapAddr+metricsPort+"/healthz")
	if err != nil || !strings.Contains(health, `"reachable": true`) || !strings.Contains(health, "ssh://root@") {
		t.Errorf("healthz: %v\n%s", err, health)
	}
}

// TestHTTPSRemote: pasteur pushes over http and https, through its own
// stack, to git http-backend behind basic auth; the token comes from
// --remote-token-file or the URL, and never shows in the log; https trusts
// --ca-file; a host name is resolved by DNS through the stack
// (--dns-server, BIND serving the zone "test").
func TestHTTPSRemote(t *testing.T) {
	require(t, true, "git", "curl", "named")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	newBareRepo(t, tmp, "pastes.git")
	bare := filepath.Join(tmp, "pastes.git")
	helper := filepath.Join(t.TempDir(), "githttp")
	if out, err := exec.Command("go", "build", "-o", helper, "../internal/testbed/githttp").CombinedOutput(); err != nil {
		t.Fatalf("build githttp: %v\n%s", err, out)
	}
	caPEM, certFile, keyFile := testCA(t, tmp, testbed.BridgeAddr)
	caFile := filepath.Join(tmp, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-t0ken-e2e"
	tokenFile := filepath.Join(tmp, "token")
	if err := os.WriteFile(tokenFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	bed, err := testbed.New("http")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	startPeer(t, bed, testbed.BridgeAddr+":8080", helper, "-listen", testbed.BridgeAddr+":8080", "-root", tmp, "-pass", secret)
	startPeer(t, bed, testbed.BridgeAddr+":8443", helper, "-listen", testbed.BridgeAddr+":8443", "-root", tmp, "-pass", secret,
		"-cert", certFile, "-key", keyFile)

	// A DNS server for the name "git.test", which the certificate holds.
	zone := filepath.Join(tmp, "test.zone")
	os.WriteFile(zone, []byte("$TTL 60\n@ IN SOA ns.test. admin.test. 1 60 60 60 60\n@ IN NS ns.test.\n"+
		"ns IN A "+testbed.BridgeAddr+"\ngit IN A "+testbed.BridgeAddr+"\n"), 0o644)
	conf := filepath.Join(tmp, "named.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`options { directory "%s"; listen-on port 53 { %s; }; listen-on-v6 { none; };
recursion no; pid-file none; };
zone "test" { type master; file "%s"; };
`, tmp, testbed.BridgeAddr, zone)), 0o644)
	startPeer(t, bed, testbed.BridgeAddr+":53", "named", "-g", "-4", "-c", conf)

	tests := []struct {
		name string
		args []string
	}{
		{"https by name through --dns-server", []string{"--remote", "https://git.test:8443/pastes.git",
			"--remote-token-file", tokenFile, "--ca-file", caFile, "--dns-server", testbed.BridgeAddr}},
		{"https token file", []string{"--remote", "https://" + testbed.BridgeAddr + ":8443/pastes.git",
			"--remote-token-file", tokenFile, "--ca-file", caFile}},
		{"http password in URL", []string{"--remote", "http://pasteur:" + secret + "@" + testbed.BridgeAddr + ":8080/pastes.git"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--data", filepath.Join(tmp, "data"+string(rune('a'+i))), "--log-level", "debug")
			srv := startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur", args: args})
			id := put(t, bed, tt.name)
			if got := git(t, bare, "show", "master:"+pathOf(t, bare, id)); !strings.Contains(got, tt.name) {
				t.Fatalf("remote holds %q", got)
			}
			srv.kill()
			if strings.Contains(readFile(t, srv.log), secret) {
				t.Error("the token shows in the log")
			}
		})
	}

	// Without --ca-file the test CA is not trusted: refused at start.
	bad := startPasteur(t, bed, pasteurRun{bin: bin, name: "untrusted", exits: true, args: []string{
		"--remote", "https://" + testbed.BridgeAddr + ":8443/pastes.git", "--remote-token-file", tokenFile, "--data", ""}})
	if code := bad.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(readFile(t, bad.log), "certificate") {
		t.Errorf("untrusted CA: exit %d", code)
	}
	// A wrong token: refused at start.
	wrong := filepath.Join(tmp, "wrong")
	os.WriteFile(wrong, []byte("nope"), 0o600)
	bad = startPasteur(t, bed, pasteurRun{bin: bin, name: "badtoken", exits: true, args: []string{
		"--remote", "https://" + testbed.BridgeAddr + ":8443/pastes.git", "--remote-token-file", wrong, "--ca-file", caFile,
		"--data", filepath.Join(tmp, "data-bad")}})
	if code := bad.cmd.ProcessState.ExitCode(); code == 0 {
		t.Errorf("wrong token: exit %d", code)
	}
	t.Logf("wrong token: %s", lastLine(readFile(t, bad.log)))
}

// testCA makes a CA and a server certificate for ip, and returns the CA's
// PEM and the server's certificate and key files.
func testCA(t *testing.T, dir, ip string) (caPEM []byte, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pasteur e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, DNSNames: []string{"git.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), certFile, keyFile
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
