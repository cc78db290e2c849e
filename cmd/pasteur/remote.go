package main

import (
	"crypto"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/pasteur-dev/pasteur/gitsync"
)

// remoteConfig is the part of the command line that reaches the Git
// remote: ssh keys and host-key pins, the https token and CAs.
type remoteConfig struct {
	sshKeyFile  string
	sshSeed     string
	sshAuth     string
	sshInsecure bool
	tokenFile   string
	caFile      string
	auth        gitsync.Auth // built by check
}

// addFlags declares the remote's flags on fs.
func (r *remoteConfig) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&r.sshKeyFile, "ssh-key", "", "private key `file` (OpenSSH format, unencrypted) for an ssh --remote; `pasteur keygen --out FILE` makes one")
	fs.StringVar(&r.sshSeed, "ssh-seed", "", "secret `seed` (16+ bytes) the ssh key for --remote is derived from, instead of --ssh-key; `pasteur keygen --ssh-seed SEED` prints its public key")
	fs.StringVar(&r.sshAuth, "ssh-auth", "", "SHA256 `fingerprint`(s) of the ssh remote's host key, comma-separated (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub); any other key is refused")
	fs.BoolVar(&r.sshInsecure, "ssh-insecure", false, "accept any host key from the ssh remote (tests only: open to impersonation)")
	fs.StringVar(&r.tokenFile, "remote-token-file", "", "`file` holding the password or access token of an https --remote (sent with basic auth; never logged)")
	fs.StringVar(&r.caFile, "ca-file", "", "PEM `file` of certificate authorities trusted, besides the system's, for an https --remote")
}

// check loads the credentials the remote's flags name and has gitsync
// validate them with the --remote URL, mapping its errors to the flags. A
// password in an https URL moves to the credentials, out of *remote, so
// that no log line shows it.
func (r *remoteConfig) check(remote *string) error {
	if u, err := url.Parse(*remote); err == nil && u.User != nil && (u.Scheme == "https" || u.Scheme == "http") {
		if pw, ok := u.User.Password(); ok {
			r.auth.Token = pw
			u.User = url.User(u.User.Username())
			*remote = u.String()
		}
	}
	if r.sshKeyFile != "" && r.sshSeed != "" {
		return errors.New("--ssh-key and --ssh-seed both give the ssh key: choose one")
	}
	var err error
	if r.auth.SSHKey, err = loadSSHKey(r.sshKeyFile, r.sshSeed); err != nil {
		return err
	}
	for _, fp := range strings.Split(r.sshAuth, ",") {
		if fp = strings.TrimSpace(fp); fp != "" {
			r.auth.SSHHostKeys = append(r.auth.SSHHostKeys, fp)
		}
	}
	r.auth.SSHInsecure = r.sshInsecure
	if r.tokenFile != "" {
		b, err := os.ReadFile(r.tokenFile)
		if err != nil {
			return fmt.Errorf("--remote-token-file: %w", err)
		}
		if r.auth.Token = strings.TrimSpace(string(b)); r.auth.Token == "" {
			return fmt.Errorf("--remote-token-file %s is empty", r.tokenFile)
		}
	}
	if r.caFile != "" {
		if r.auth.RootCAs, err = certPool(r.caFile); err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
	}
	cfg := gitsync.Config{Remote: *remote, Auth: r.auth}
	var ce *gitsync.ConfigError
	if err := cfg.Validate(); errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", r.flagsFor(ce.Field), ce.Err)
	} else if err != nil {
		return err
	}
	return nil
}

// flagsFor names the flags that set a field of gitsync.Config.
func (r *remoteConfig) flagsFor(field string) string {
	switch field {
	case gitsync.FieldSSHKey:
		switch {
		case r.sshKeyFile != "":
			return "--ssh-key"
		case r.sshSeed != "":
			return "--ssh-seed"
		}
		return "--ssh-key or --ssh-seed (pasteur keygen)"
	case gitsync.FieldSSHHostKeys:
		switch {
		case r.sshAuth != "" && r.sshInsecure:
			return "--ssh-auth and --ssh-insecure"
		case r.sshInsecure:
			return "--ssh-insecure"
		}
		return "--ssh-auth"
	case gitsync.FieldToken:
		if r.tokenFile == "" {
			return "--remote (its password)"
		}
		return "--remote-token-file"
	case gitsync.FieldRootCAs:
		return "--ca-file"
	}
	return "--remote"
}

// loadSSHKey reads the key of --ssh-key, or derives the one of --ssh-seed;
// nil without either.
func loadSSHKey(file, seed string) (crypto.Signer, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--ssh-key: %w", err)
		}
		k, err := gitsync.ParseSSHKey(b)
		if err != nil {
			return nil, fmt.Errorf("--ssh-key %s: %w", file, err)
		}
		return k, nil
	case seed != "":
		k, err := gitsync.SSHKeyFromSeed([]byte(seed))
		if err != nil {
			return nil, fmt.Errorf("--ssh-seed: %w", err)
		}
		return k, nil
	}
	return nil, nil
}
