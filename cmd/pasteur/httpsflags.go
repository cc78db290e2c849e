package main

import (
	"crypto"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pasteur-dev/pasteur/acme"
)

// httpsConfig is the HTTPS part of the command line.
type httpsConfig struct {
	enabled     bool
	hostname    string
	email       string
	production  bool
	directory   string
	caFile      string
	challenge   string
	dnsKey      acme.TSIGKey
	dnsAddr     string
	dnsPort     int
	certDir     string
	accountKey  crypto.Signer // from --account-seed
	certKey     crypto.Signer // from --cert-seed
	rawKey      string
	accountSeed string
	certSeed    string
}

// addFlags declares the HTTPS flags on fs.
func (h *httpsConfig) addFlags(fs *flag.FlagSet) {
	fs.BoolVar(&h.enabled, "https", false, "serve HTTPS on --port (443 by default) with a certificate from Let's Encrypt, obtained and renewed in the process; port 80 answers http-01 challenges and redirects to https")
	fs.StringVar(&h.hostname, "hostname", "", "the server's DNS `name`, the certificate's subject (needed by --https)")
	fs.StringVar(&h.email, "email", "", "contact `address` of the ACME account, for the CA's expiry notices")
	fs.BoolVar(&h.production, "production", false, "use Let's Encrypt's production CA (the default is its staging CA, whose certificates browsers do not trust)")
	fs.StringVar(&h.directory, "acme-directory", "", "ACME directory `URL` of another CA (e.g. https://10.0.0.1:14000/dir for Pebble)")
	fs.StringVar(&h.caFile, "acme-ca-file", "", "PEM `file` of root certificates to trust, besides the system's, for the CA's HTTPS (a private CA such as Pebble)")
	fs.StringVar(&h.challenge, "challenge", "", "ACME challenge: http-01 (port 80), tls-alpn-01 (port 443 only) or dns-01 (default: dns-01 with --dns-key, else http-01)")
	fs.StringVar(&h.rawKey, "dns-key", "", "TSIG key `NAME:ALG:SECRET` (as tsig-keygen prints it; hmac-sha256 or stronger) that signs the RFC 2136 updates of the dns-01 challenge")
	fs.StringVar(&h.dnsAddr, "dns-addr", "", "`address` of the DNS server that takes the dns-01 updates (the zone's primary)")
	fs.IntVar(&h.dnsPort, "dns-port", 53, "port of the --dns-addr server")
	fs.StringVar(&h.accountSeed, "account-seed", "", "secret `seed` (16+ bytes, e.g. from openssl rand -base64 32) the ACME account key is derived from, so a stateless server keeps its account (default: a key kept in --cert-dir)")
	fs.StringVar(&h.certSeed, "cert-seed", "", "secret `seed` the certificate's private key is derived from (default: a new key per certificate)")
	fs.StringVar(&h.certDir, "cert-dir", "", "`directory` where the account key and certificates are cached (default: acme/ inside --data, outside the paste history)")
}

// check validates the HTTPS flags after parsing and fills in defaults;
// portSet tells whether --port was given.
func (h *httpsConfig) check(c *serveConfig, portSet bool) error {
	if !h.enabled {
		for name, v := range map[string]bool{
			"--hostname": h.hostname != "", "--email": h.email != "", "--production": h.production,
			"--acme-directory": h.directory != "", "--acme-ca-file": h.caFile != "", "--challenge": h.challenge != "",
			"--dns-key": h.rawKey != "", "--dns-addr": h.dnsAddr != "", "--account-seed": h.accountSeed != "",
			"--cert-seed": h.certSeed != "", "--cert-dir": h.certDir != "",
		} {
			if v {
				return fmt.Errorf("%s configures HTTPS: add --https", name)
			}
		}
		return nil
	}
	if !portSet {
		c.port = 443
	}
	switch {
	case h.hostname == "":
		return errors.New("--https needs --hostname, the server's DNS name (e.g. --hostname paste.example.org)")
	case h.email != "" && !strings.Contains(h.email, "@"):
		return fmt.Errorf("--email %q: want an e-mail address", h.email)
	case h.production && h.directory != "":
		return errors.New("--production and --acme-directory both name the CA: give one")
	case c.port == 80:
		return errors.New("--port 80 is taken by the challenge and redirect server with --https; choose another (443)")
	case h.dnsPort < 1 || h.dnsPort > 65535:
		return fmt.Errorf("--dns-port %d: want 1..65535", h.dnsPort)
	}
	if err := acme.CheckHostname(h.hostname); err != nil {
		return fmt.Errorf("--hostname: %w", err)
	}
	if h.directory != "" {
		if u, err := url.Parse(h.directory); err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("--acme-directory %q: want an https URL", h.directory)
		}
	}
	if h.caFile != "" {
		if _, err := os.Stat(h.caFile); err != nil {
			return fmt.Errorf("--acme-ca-file: %w", err)
		}
	}
	if h.challenge == "" {
		h.challenge = acme.HTTP01
		if h.rawKey != "" {
			h.challenge = acme.DNS01
		}
	}
	switch h.challenge {
	case acme.HTTP01, acme.TLSALPN01:
		if h.rawKey != "" || h.dnsAddr != "" {
			return fmt.Errorf("--dns-key and --dns-addr are for --challenge dns-01, not %s", h.challenge)
		}
	case acme.DNS01:
		if h.rawKey == "" || h.dnsAddr == "" {
			return errors.New("--challenge dns-01 needs --dns-key NAME:ALG:SECRET and --dns-addr (the zone's primary DNS server)")
		}
		k, err := acme.ParseTSIGKey(h.rawKey)
		if err != nil {
			return fmt.Errorf("--dns-key: %w", err)
		}
		h.dnsKey = k
	default:
		return fmt.Errorf("--challenge %q: want http-01, tls-alpn-01 or dns-01", h.challenge)
	}
	var err error
	if h.accountSeed != "" {
		if h.accountKey, err = acme.KeyFromSeed([]byte(h.accountSeed), "account"); err != nil {
			return fmt.Errorf("--account-seed: %w", err)
		}
	}
	if h.certSeed != "" {
		if h.certKey, err = acme.KeyFromSeed([]byte(h.certSeed), "certificate"); err != nil {
			return fmt.Errorf("--cert-seed: %w", err)
		}
	}
	if h.certDir == "" && c.data != "" {
		h.certDir = filepath.Join(c.data, "acme")
	}
	return nil
}

// directoryURL is the CA the flags name.
func (h *httpsConfig) directoryURL() string {
	switch {
	case h.directory != "":
		return h.directory
	case h.production:
		return acme.LetsEncryptURL
	}
	return acme.LetsEncryptStagingURL
}
