package gitsync

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Auth holds the credentials and the trust for ssh and https remotes. The
// zero value suits git:// remotes.
type Auth struct {
	// SSHKey signs in to ssh remotes (see ParseSSHKey, SSHKeyFromSeed).
	SSHKey crypto.Signer

	// SSHHostKeys are the SHA256 fingerprints ("SHA256:...", as
	// ssh-keygen -lf prints them) of the host keys an ssh remote may
	// present; any other is refused. Required for ssh unless
	// SSHInsecure.
	SSHHostKeys []string

	// SSHInsecure accepts any host key (tests, first contact); it
	// excludes SSHHostKeys.
	SSHInsecure bool

	// Token is the password of https remotes (a personal access token),
	// sent with HTTP basic authentication as the password of the URL's
	// user, "x-access-token" when the URL names none. A password in the
	// URL serves when Token is "".
	Token string

	// RootCAs are the certificate authorities https remotes are checked
	// against; nil is the system's.
	RootCAs *x509.CertPool
}

// ParseSSHKey reads a private key in OpenSSH or PEM form (unencrypted).
func ParseSSHKey(pem []byte) (crypto.Signer, error) {
	k, err := ssh.ParseRawPrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("gitsync: ssh key: %w", err)
	}
	if p, ok := k.(*ed25519.PrivateKey); ok {
		return *p, nil
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("gitsync: ssh key: unsupported type %T", k)
	}
	return signer, nil
}

// SSHKeyFromSeed derives an Ed25519 key from a secret seed (16 bytes or
// more): the same seed gives the same key, so a stateless server keeps its
// identity.
func SSHKeyFromSeed(seed []byte) (crypto.Signer, error) {
	if len(seed) < 16 {
		return nil, errors.New("gitsync: ssh seed: want 16 bytes or more")
	}
	h := sha256.Sum256(append([]byte("pasteur ssh key v1\x00"), seed...))
	return ed25519.NewKeyFromSeed(h[:]), nil
}

// AuthorizedKey is key's public half as a line of authorized_keys (or of a
// forge's "add an SSH key" form), with its SHA256 fingerprint.
func AuthorizedKey(key crypto.Signer, comment string) (line, fingerprint string, err error) {
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return "", "", err
	}
	line = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	if comment != "" {
		line += " " + comment
	}
	return line, ssh.FingerprintSHA256(pub), nil
}

// MarshalSSHKey encodes key in OpenSSH's private key format.
func MarshalSSHKey(key crypto.Signer, comment string) ([]byte, error) {
	b, err := ssh.MarshalPrivateKey(key, comment)
	if err != nil {
		return nil, err
	}
	return pemEncode(b), nil
}

func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }
