package acme

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"testing"
)

func TestTLSALPN01Certificate(t *testing.T) {
	s := &TLSALPN01Solver{}
	m := &Manager{Solver: s}
	ch := Challenge{Type: TLSALPN01, Domain: "Paste.Example.Test", Token: "tok", KeyAuth: "tok.thumb"}
	if err := s.Present(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	c, err := m.GetCertificate(&tls.ClientHelloInfo{ServerName: "paste.example.test", SupportedProtos: []string{alpnProto}})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("paste.example.test"); err != nil {
		t.Error(err)
	}
	want := sha256.Sum256([]byte(ch.KeyAuth))
	found := false
	for _, e := range leaf.Extensions {
		if e.Id.Equal(idPeACMEIdentifier) {
			var got []byte
			if _, err := asn1.Unmarshal(e.Value, &got); err != nil || !bytes.Equal(got, want[:]) || !e.Critical {
				t.Errorf("acmeIdentifier %x critical %v (%v), want %x", got, e.Critical, err, want)
			}
			found = true
		}
	}
	if !found {
		t.Error("no acmeIdentifier extension")
	}
	// An ordinary handshake gets no challenge certificate, and before any
	// certificate is obtained, an error that says so.
	if _, err := m.GetCertificate(&tls.ClientHelloInfo{ServerName: "paste.example.test", SupportedProtos: []string{"h2", "http/1.1"}}); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("ordinary hello: %v, want ErrNoCertificate", err)
	}
	s.CleanUp(context.Background(), ch)
	if _, err := m.GetCertificate(&tls.ClientHelloInfo{ServerName: "paste.example.test", SupportedProtos: []string{alpnProto}}); err == nil {
		t.Error("challenge certificate served after CleanUp")
	}
}
