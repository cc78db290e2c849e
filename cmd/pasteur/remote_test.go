package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoteFlags(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("tok3n\n"), 0o600)
	seed := []string{"--ssh-seed", "0123456789abcdef0123"}
	tests := []struct {
		args []string
		want string // in the error; "" for none
	}{
		{append([]string{"--remote", "git@github.com:o/r.git", "--ssh-insecure"}, seed...), ""},
		{append([]string{"--remote", "ssh://git@h/r.git", "--ssh-auth", "SHA256:abc"}, seed...), ""},
		{[]string{"--remote", "ssh://git@h/r.git", "--ssh-auth", "SHA256:abc"}, "--ssh-key or --ssh-seed"},
		{append([]string{"--remote", "git@h:r.git"}, seed...), "--ssh-auth"},
		{append([]string{"--remote", "git@h:r.git", "--ssh-auth", "MD5:ab"}, seed...), "SHA256"},
		{append([]string{"--remote", "git@h:r.git", "--ssh-insecure", "--ssh-key", token}, seed...), "choose one"},
		{[]string{"--remote", "git@h:r.git", "--ssh-insecure", "--ssh-seed", "short"}, "16 bytes"},
		{append([]string{"--remote", "git://h/r.git", "--ssh-insecure"}, seed...), "--ssh-seed: an ssh key is for an ssh remote"},
		{[]string{"--remote", "git://h/r.git", "--ssh-insecure"}, "--ssh-insecure: host keys are for an ssh remote"},
		{[]string{"--remote", "git://h/r.git", "--remote-token-file", token}, "--remote-token-file: a token is for an https remote"},
		{[]string{"--remote", "git://h/r.git", "--ca-file", token}, "--ca-file"},
		{append([]string{"--remote", "git@h:r.git", "--ssh-auth", "SHA256:abc", "--ssh-insecure"}, seed...), "contradict"},
		{[]string{"--remote", "file:///srv/r.git"}, "--remote: protocol \"file\" is not supported"},
		{[]string{"--remote", "https://h/r.git", "--remote-token-file", token}, ""},
		{[]string{"--remote", "https://h/r.git", "--ca-file", token}, "no PEM"},
		{[]string{"--remote", "https://h/r.git", "--remote-token-file", filepath.Join(dir, "none")}, "--remote-token-file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseServeFlags(tt.args, &bytes.Buffer{})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRemotePasswordLeavesURL(t *testing.T) {
	cfg, err := parseServeFlags([]string{"--remote", "https://bob:s3cret@h/r.git"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cfg.remote, "s3cret") || cfg.git.auth.Token != "s3cret" || cfg.remote != "https://bob@h/r.git" {
		t.Errorf("remote %q, token %q", cfg.remote, cfg.git.auth.Token)
	}
}

func TestKeygen(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runKeygen([]string{"--ssh-seed", "0123456789abcdef0123"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	first := out.String()
	if !strings.HasPrefix(first, "ssh-ed25519 ") || !strings.Contains(errb.String(), "SHA256:") {
		t.Errorf("keygen --ssh-seed: %q %q", first, errb.String())
	}
	out.Reset()
	runKeygen([]string{"--ssh-seed", "0123456789abcdef0123"}, &out, &errb)
	if out.String() != first {
		t.Error("the same seed gave another key")
	}
	file := filepath.Join(t.TempDir(), "key")
	out.Reset()
	if code := runKeygen([]string{"--out", file}, &out, &errb); code != exitOK {
		t.Fatalf("keygen --out: exit %d: %s", code, errb.String())
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	key, err := loadSSHKey(file, "")
	if err != nil || key == nil {
		t.Fatalf("reading the key back: %v", err)
	}
	if code := runKeygen([]string{"--out", file}, &out, &errb); code == exitOK {
		t.Error("keygen overwrote an existing key")
	}
}
