// Package acme gets, caches and renews a TLS certificate from an ACME
// certificate authority such as Let's Encrypt, in the manner of
// golang.org/x/crypto/acme/autocert, but for a server that knows its host
// names in advance and owns its network.
//
// A Manager obtains one certificate for its Hosts when Run starts (or takes
// it from its Cache), serves it through GetCertificate, and renews it in the
// process when a third of its lifetime is left, so a long-running server
// never restarts for a certificate. The CA proves control of the names with
// one Solver:
//
//   - HTTP01Solver (the default) answers http-01 challenges on port 80
//     through Manager.HTTPHandler, which redirects everything else to https;
//   - TLSALPN01Solver answers tls-alpn-01 challenges on port 443 through
//     Manager.GetCertificate, for servers that cannot use port 80;
//   - DNS01Solver answers dns-01 challenges by adding and removing a TXT
//     record with RFC 2136 dynamic updates signed with a TSIG key.
//
// The package never opens a socket itself: requests to the CA go through
// Manager.HTTPClient and DNS updates through DNS01Solver.Dial, so the caller
// chooses the network (pasteur passes its userspace TCP/IP stack).
//
// A minimal server:
//
//	m := &acme.Manager{
//		Hosts:      []string{"paste.example.org"},
//		Email:      "me@example.org",
//		HTTPClient: client, // dials through the server's network
//		Cache:      acme.DirCache("/var/lib/pasteur/certs"),
//		Logger:     log,
//	}
//	go http.Serve(ln80, m.HTTPHandler(nil))
//	srv := &http.Server{Handler: h, TLSConfig: m.TLSConfig()}
//	go srv.ServeTLS(ln443, "", "")
//	err := m.Run(ctx) // until ctx ends
package acme
