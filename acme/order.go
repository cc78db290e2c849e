package acme

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"time"

	xacme "golang.org/x/crypto/acme"
)

// obtain orders a certificate from the CA and starts serving it.
func (m *Manager) obtain(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, orderTimeout)
	defer cancel()
	start := m.clock()
	m.log().Info("ordering a certificate", "hosts", m.Hosts, "directory", m.directory(), "challenge", m.solver().Type())
	client, err := m.account(ctx)
	if err != nil {
		return err
	}
	order, err := client.AuthorizeOrder(ctx, xacme.DomainIDs(m.Hosts...))
	if err != nil {
		return m.caError("place the order", err)
	}
	for _, u := range order.AuthzURLs {
		if err := m.authorize(ctx, client, u); err != nil {
			return err
		}
	}
	if order, err = client.WaitOrder(ctx, order.URI); err != nil {
		return m.caError("wait for the order", err)
	}
	key := m.CertKey
	if key == nil {
		if key, err = newKey(); err != nil {
			return err
		}
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: m.Hosts[0]},
		DNSNames: m.Hosts,
	}, key)
	if err != nil {
		return fmt.Errorf("acme: certificate request: %w", err)
	}
	chain, _, err := client.CreateCertFromOrder(ctx, order, csr, true)
	if err != nil {
		return m.caError("finalize the order", err)
	}
	c, err := newTLSCert(key, chain)
	if err == nil {
		err = checkLeaf(c.Leaf, m.Hosts, m.clock())
	}
	if err != nil {
		return fmt.Errorf("%w: the CA issued an unusable certificate: %v", ErrCARefused, err)
	}
	m.setCert(c, false)
	m.log().Info("certificate obtained", "hosts", m.Hosts, "serial", c.Leaf.SerialNumber.Text(16),
		"not_after", c.Leaf.NotAfter.UTC(), "renew_at", renewAt(c.Leaf.NotBefore, c.Leaf.NotAfter).UTC(),
		"took", m.clock().Sub(start).Round(time.Millisecond).String())
	if m.Cache != nil {
		data, err := encodeCert(key, chain)
		if err == nil {
			err = m.Cache.Put(ctx, m.certName(), data)
		}
		if err != nil {
			m.log().Warn("cannot cache the certificate; a restart will order a new one", "err", err)
		}
	}
	return nil
}

// authorize gets the authorization at url valid, through the Solver.
func (m *Manager) authorize(ctx context.Context, client *xacme.Client, url string) error {
	z, err := client.GetAuthorization(ctx, url)
	if err != nil {
		return m.caError("get the authorization", err)
	}
	if z.Status == xacme.StatusValid {
		m.log().Debug("authorization already valid", "host", z.Identifier.Value)
		return nil
	}
	if z.Status != xacme.StatusPending {
		return fmt.Errorf("%w: authorization for %s is %s", ErrCARefused, z.Identifier.Value, z.Status)
	}
	s := m.solver()
	var chal *xacme.Challenge
	var offered []string
	for _, c := range z.Challenges {
		offered = append(offered, c.Type)
		if c.Type == s.Type() {
			chal = c
		}
	}
	if chal == nil {
		return fmt.Errorf("%w: the CA offers no %s challenge for %s (it offers %s)", ErrCARefused, s.Type(), z.Identifier.Value, strings.Join(offered, ", "))
	}
	ka, err := keyAuth(client.Key, chal.Token)
	if err != nil {
		return err
	}
	ch := Challenge{Type: chal.Type, Domain: z.Identifier.Value, Token: chal.Token, KeyAuth: ka}
	if err := s.Present(ctx, ch); err != nil {
		return fmt.Errorf("prepare the %s challenge for %s: %w", ch.Type, ch.Domain, err)
	}
	defer func() {
		// Clean up even when ctx has ended, within bounds.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.CleanUp(cctx, ch); err != nil {
			m.log().Warn("cannot clean up the challenge", "type", ch.Type, "host", ch.Domain, "err", err)
		}
	}()
	if _, err := client.Accept(ctx, chal); err != nil {
		return m.caError("accept the "+ch.Type+" challenge", err)
	}
	if _, err := client.WaitAuthorization(ctx, z.URI); err != nil {
		var ae *xacme.AuthorizationError
		if errors.As(err, &ae) {
			return authzError(ch.Type, ch.Domain, err)
		}
		return m.caError("wait for the "+ch.Type+" validation of "+ch.Domain, err)
	}
	m.log().Info("challenge validated", "type", ch.Type, "host", ch.Domain)
	return nil
}

// keyAuth is the key authorization of token for the account key.
func keyAuth(key crypto.Signer, token string) (string, error) {
	th, err := xacme.JWKThumbprint(key.Public())
	if err != nil {
		return "", fmt.Errorf("acme: account key: %w", err)
	}
	return token + "." + th, nil
}
