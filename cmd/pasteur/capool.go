package main

import (
	"crypto/x509"
	"fmt"
	"os"
)

// certPool returns the system's certificate authorities plus those in the
// PEM file named (none for ""). Its errors name the file, not the flag.
func certPool(file string) (*x509.CertPool, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if file == "" {
		return roots, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if !roots.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return roots, nil
}
