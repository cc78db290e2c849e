package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildPasteur builds the pasteur binary as it ships (CGO_ENABLED=0) into
// dir and returns its path. It runs from anywhere inside the module.
func BuildPasteur(dir string) (string, error) {
	bin := filepath.Join(dir, "pasteur")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/pasteur-dev/pasteur/cmd/pasteur")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build pasteur: %w\n%s", err, out)
	}
	return bin, nil
}
