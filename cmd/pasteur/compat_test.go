package main

import (
	"bytes"
	"errors"
	"flag"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostnameShort: -h NAME is --hostname, as in the original; -h alone
// or before another flag is --help.
func TestHostnameShort(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--h"}, {"-h", "--port", "80"}, {"--data", "x", "-h"}} {
		var help bytes.Buffer
		if _, err := parseServeFlags(args, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "-hostname") {
			t.Errorf("%v: %v, want help", args, err)
		}
	}
	c, err := parseServeFlags([]string{"--https", "-h", "paste.example.org", "--data", t.TempDir()}, nil)
	if err != nil || c.https.hostname != "paste.example.org" {
		t.Fatalf("-h NAME: %v", err)
	}
	c, err = parseServeFlags([]string{"--title", "Past-isserie", "--subtitle", "pastes", "--json-answers"}, nil)
	if err != nil || c.compat.title != "Past-isserie" || c.compat.subtitle != "pastes" || !c.compat.jsonAnswers {
		t.Fatalf("--title, --subtitle, --json-answers: %+v, %v", c, err)
	}
}

func TestMigrateCommand(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	dir := filepath.Join(t.TempDir(), "repo")
	run := func(args ...string) {
		if out, err := exec.Command("git", append([]string{"--git-dir=" + dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	if out, err := exec.Command("git", "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"migrate", "--data", dir}, nil, &out, &errb); code != exitOK || !strings.Contains(out.String(), "nothing to move") {
		t.Fatalf("empty repository: %d %q %q", code, out.String(), errb.String())
	}
	cmd := exec.Command("git", "--git-dir="+dir, "fast-import", "--quiet")
	cmd.Stdin = strings.NewReader("commit refs/heads/master\ncommitter Git KV <git-noreply@robur.coop> 1700000000 +0000\ndata 20\nCommitted by git-kv\n" +
		"M 100644 inline AbC\ndata 37\n{\"contents\":\"hi\",\"encrypted\":false}\n\n")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatal(err, string(b))
	}
	run("symbolic-ref", "HEAD", "refs/heads/master")
	out.Reset()
	if code := dispatch([]string{"migrate", "--data", dir}, nil, &out, &errb); code != exitOK || !strings.Contains(out.String(), "moved 1 pastes") {
		t.Fatalf("migrate: %d %q %q", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{"migrate", "--data", filepath.Join(t.TempDir(), "none")}, nil, &out, &errb); code != exitRuntime || !strings.Contains(errb.String(), "not a bare repository") {
		t.Errorf("missing repository: %d %q", code, errb.String())
	}
}
