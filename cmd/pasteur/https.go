package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pasteur-dev/pasteur/acme"
	"github.com/pasteur-dev/pasteur/netx"
)

// newCertManager returns the certificate manager --https asks for (nil
// without it); every request it makes goes through network.
func newCertManager(cfg *serveConfig, network netx.Network, log *slog.Logger) (*acme.Manager, error) {
	h := &cfg.https
	if !h.enabled {
		return nil, nil
	}
	log = log.With("component", "acme")
	client, err := acmeHTTPClient(network, h.caFile)
	if err != nil {
		return nil, err
	}
	m := &acme.Manager{
		Hosts:        []string{h.hostname},
		Email:        h.email,
		DirectoryURL: h.directoryURL(),
		HTTPClient:   client,
		AccountKey:   h.accountKey,
		CertKey:      h.certKey,
		Logger:       log,
	}
	if h.certDir != "" {
		m.Cache = acme.DirCache(h.certDir)
	} else {
		log.Warn("no --cert-dir: the certificate is not cached, and every start orders a new one (mind the CA's rate limits)")
	}
	switch h.challenge {
	case acme.TLSALPN01:
		m.Solver = &acme.TLSALPN01Solver{}
	case acme.DNS01:
		m.Solver = &acme.DNS01Solver{
			Server: net.JoinHostPort(h.dnsAddr, strconv.Itoa(h.dnsPort)),
			Key:    h.dnsKey,
			Dial:   network.Dial,
			Logger: log,
		}
	default:
		m.Solver = &acme.HTTP01Solver{}
	}
	if m.DirectoryURL == acme.LetsEncryptStagingURL {
		log.Warn("using Let's Encrypt's staging CA: browsers do not trust its certificates; add --production once this works")
	}
	return m, nil
}

// acmeHTTPClient returns the client for the CA: it dials through network
// and trusts the system's roots plus those in caFile.
func acmeHTTPClient(network netx.Network, caFile string) (*http.Client, error) {
	roots, err := certPool(caFile)
	if err != nil {
		return nil, fmt.Errorf("--acme-ca-file: %w", err)
	}
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			DialContext:         network.Dial,
			TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 15 * time.Second,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        4,
			IdleConnTimeout:     90 * time.Second,
		},
	}, nil
}

// listenHTTP opens port 80 next to the HTTPS port when --https is on (nil
// without it). The http-01 challenge needs it; for the other challenges it
// only redirects, so failing to open it is a warning.
func listenHTTP(cfg *serveConfig, network netx.Network, httpsAddr string, log *slog.Logger) (net.Listener, error) {
	if !cfg.https.enabled {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(httpsAddr)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(host, "80")
	ln, err := network.Listen("tcp", addr)
	if err != nil {
		if cfg.https.challenge == acme.HTTP01 {
			return nil, fmt.Errorf("listen on %s for the http-01 challenge: %w (or use --challenge tls-alpn-01 or dns-01)", addr, err)
		}
		log.Warn("no redirect from port 80 to https", "addr", addr, "err", err)
		return nil, nil
	}
	return ln, nil
}

// serveHTTPS starts serving srv over TLS on ln with the certificate of
// certs, the challenge and redirect server on ln80 (if any), and the
// certificate's renewal; errors go to errc. It returns the port 80 server,
// for shutdown (nil without ln80). shown names ln for the log.
func serveHTTPS(ctx context.Context, cfg *serveConfig, certs *acme.Manager, srv *http.Server, ln, ln80 net.Listener, shown string, errc chan<- error, log *slog.Logger) *http.Server {
	srv.TLSConfig = certs.TLSConfig()
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	var redirect *http.Server
	if ln80 != nil {
		redirect = &http.Server{
			Handler:           certs.HTTPHandler(withHealth(acme.HTTPSRedirect(cfg.port), certs)),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       20 * time.Second,
			WriteTimeout:      20 * time.Second,
			IdleTimeout:       60 * time.Second,
			MaxHeaderBytes:    srv.MaxHeaderBytes,
			ConnState:         srv.ConnState,
			ErrorLog:          srv.ErrorLog,
		}
		go func() { errc <- redirect.Serve(ln80) }()
	}
	go func() {
		if err := certs.Run(ctx); err != nil {
			errc <- err
		}
	}()
	u := "https://" + cfg.https.hostname
	if cfg.port != 443 {
		u += ":" + strconv.Itoa(cfg.port)
	}
	log.Info("serving", "url", u, "addr", shown, "challenge", cfg.https.challenge,
		"ca", certs.DirectoryURL, "cert_dir", cfg.https.certDir, "remote", cfg.remote, "data", cfg.data)
	return redirect
}
