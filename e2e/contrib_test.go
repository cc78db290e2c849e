package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSystemdUnit checks contrib/pasteur.service with systemd-analyze:
// verify finds nothing to say (an unknown key or a bad value is only a
// warning there, so any output fails), and the sandbox's exposure score
// stays low. The unit's binary is the one just built.
func TestSystemdUnit(t *testing.T) {
	require(t, false, "systemd-analyze")
	bin := buildPasteur(t)
	unit, err := os.ReadFile("../contrib/pasteur.service")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/pasteur ") {
		t.Fatal("the unit does not run /usr/local/bin/pasteur")
	}
	p := filepath.Join(t.TempDir(), "pasteur.service")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/pasteur", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", p).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command("systemd-analyze", "security", "--offline=true", p).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for pasteur.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("exposure level %.1f (0 is the most sandboxed, 10 the least)", score)
	if score > 3 {
		t.Errorf("exposure level %.1f, want at most 3:\n%s", score, out)
	}
}
