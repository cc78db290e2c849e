package main

import (
	"crypto"
	"crypto/x509"
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

// check validates the remote's flags against the --remote URL and loads the
// credentials they name. A password in an https URL moves to the
// credentials, out of *remote, so that no log line shows it.
func (r *remoteConfig) check(remote *string) error {
	scheme := remoteScheme(*remote)
	if scheme == "https" || scheme == "http" {
		if u, err := url.Parse(*remote); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok {
				r.auth.Token = pw
				u.User = url.User(u.User.Username())
				*remote = u.String()
			}
		}
	}
	sshSet := r.sshKeyFile != "" || r.sshSeed != "" || r.sshAuth != "" || r.sshInsecure
	httpSet := r.tokenFile != "" || r.caFile != ""
	switch {
	case sshSet && scheme != "ssh":
		return errors.New("--ssh-key, --ssh-seed, --ssh-auth and --ssh-insecure are for an ssh --remote (ssh://user@host/path or user@host:path)")
	case httpSet && scheme != "https" && scheme != "http":
		return errors.New("--remote-token-file and --ca-file are for an https --remote")
	case r.sshKeyFile != "" && r.sshSeed != "":
		return errors.New("--ssh-key and --ssh-seed both give the ssh key: choose one")
	case scheme == "ssh" && r.sshKeyFile == "" && r.sshSeed == "":
		return errors.New("an ssh --remote needs --ssh-key FILE or --ssh-seed SEED (see pasteur keygen)")
	case scheme == "ssh" && r.sshAuth == "" && !r.sshInsecure:
		return errors.New("an ssh --remote needs --ssh-auth SHA256:... (the host key's fingerprint: ssh-keyscan HOST | ssh-keygen -lf -) or --ssh-insecure")
	case r.sshAuth != "" && r.sshInsecure:
		return errors.New("--ssh-auth and --ssh-insecure contradict each other")
	}
	var err error
	if r.auth.SSHKey, err = loadSSHKey(r.sshKeyFile, r.sshSeed); err != nil {
		return err
	}
	for _, fp := range strings.Split(r.sshAuth, ",") {
		if fp = strings.TrimSpace(fp); fp == "" {
			continue
		}
		if !strings.HasPrefix(fp, "SHA256:") {
			return fmt.Errorf("--ssh-auth %q: want SHA256:... as ssh-keygen -lf prints it", fp)
		}
		r.auth.SSHHostKeys = append(r.auth.SSHHostKeys, fp)
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
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		b, err := os.ReadFile(r.caFile)
		if err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		if !roots.AppendCertsFromPEM(b) {
			return fmt.Errorf("--ca-file %s holds no PEM certificate", r.caFile)
		}
		r.auth.RootCAs = roots
	}
	return nil
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

// remoteScheme is the protocol of a remote URL: git, ssh (also for the
// scp-like user@host:path), https, http, file, or "" for none.
func remoteScheme(remote string) string {
	if remote == "" {
		return ""
	}
	if i := strings.Index(remote, "://"); i > 0 {
		return strings.ToLower(remote[:i])
	}
	if u, err := url.Parse(remote); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		return strings.ToLower(u.Scheme)
	}
	if strings.Contains(remote, ":") {
		return "ssh"
	}
	return "file"
}
