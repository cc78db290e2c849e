package acme

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDNS01SolverAddsAndRemoves(t *testing.T) {
	d := newTestDNS(t)
	s := &DNS01Solver{Server: d.addr, Key: d.key, Dial: dial}
	ch := Challenge{Type: DNS01, Domain: "paste.example.test", Token: "tok", KeyAuth: "tok.thumb"}
	ctx := context.Background()
	if err := s.Present(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if got := d.records(ch.DNSName()); len(got) != 1 || got[0] != ch.DNSValue() {
		t.Fatalf("after Present: %q, want [%s]", got, ch.DNSValue())
	}
	// A second challenge at the same name (a wildcard's) leaves the first.
	ch2 := ch
	ch2.KeyAuth = "other.thumb"
	if err := s.Present(ctx, ch2); err != nil {
		t.Fatal(err)
	}
	if err := s.CleanUp(ctx, ch2); err != nil {
		t.Fatal(err)
	}
	if got := d.records(ch.DNSName()); len(got) != 1 || got[0] != ch.DNSValue() {
		t.Fatalf("after the other CleanUp: %q", got)
	}
	if err := s.CleanUp(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if got := d.records(ch.DNSName()); len(got) != 0 {
		t.Fatalf("after CleanUp: %q", got)
	}
}

func TestDNS01SolverErrors(t *testing.T) {
	d := newTestDNS(t)
	badSecret := d.key
	badSecret.Secret = "d3Jvbmcgd3Jvbmcgd3Jvbmcgd3Jvbmch"
	unknown := d.key
	unknown.Name = "nosuchkey."
	tests := []struct {
		name   string
		key    TSIGKey
		server string
		domain string
		want   error
		text   string
	}{
		{"wrong secret", badSecret, d.addr, "paste.example.test", ErrTSIG, "BADSIG"},
		{"unknown key", unknown, d.addr, "paste.example.test", ErrTSIG, "BADKEY"},
		{"not authoritative", d.key, d.addr, "paste.example.org", ErrDNSRefused, "not authoritative"},
		{"no server", d.key, "127.0.0.1:1", "paste.example.test", ErrDNS, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &DNS01Solver{Server: tt.server, Key: tt.key, Dial: dial}
			err := s.Present(context.Background(), Challenge{Type: DNS01, Domain: tt.domain, Token: "t", KeyAuth: "t.k"})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Present: %v; want %v mentioning %q", err, tt.want, tt.text)
			}
		})
	}
}

func TestDNS01SolverRefusedByPolicy(t *testing.T) {
	d := newTestDNS(t)
	s := &DNS01Solver{Server: d.addr, Key: d.key, Dial: dial}
	// The server's policy allows only names under _acme-challenge: update
	// a name outside it through the same code path.
	m := newUpdate("example.test.", "www.example.test.")
	err := s.update(context.Background(), m, "add", "www.example.test.", "example.test.")
	if !errors.Is(err, ErrDNSRefused) || !strings.Contains(err.Error(), "REFUSED") {
		t.Fatalf("update: %v, want ErrDNSRefused", err)
	}
}
