package acme

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	xacme "golang.org/x/crypto/acme"
)

// account returns a client registered with the CA, registering the
// account on first use.
func (m *Manager) account(ctx context.Context) (*xacme.Client, error) {
	m.clientMu.Lock()
	defer m.clientMu.Unlock()
	if m.client != nil {
		return m.client, nil
	}
	key, err := m.accountKey(ctx)
	if err != nil {
		return nil, err
	}
	c := &xacme.Client{Key: key, HTTPClient: m.HTTPClient, DirectoryURL: m.directory(), UserAgent: "pasteur"}
	if _, err := c.Discover(ctx); err != nil {
		return nil, m.caError("fetch the directory", err)
	}
	var contact []string
	if m.Email != "" {
		contact = []string{"mailto:" + m.Email}
	}
	a, err := c.Register(ctx, &xacme.Account{Contact: contact}, xacme.AcceptTOS)
	switch {
	case errors.Is(err, xacme.ErrAccountAlreadyExists):
		m.log().Info("using the existing ACME account")
	case err != nil:
		return nil, m.caError("register the account", err)
	default:
		m.log().Info("ACME account registered", "account", a.URI, "contact", contact)
	}
	m.client = c
	return c, nil
}

// accountKey returns AccountKey, or the cached key, or a new one it caches.
func (m *Manager) accountKey(ctx context.Context) (crypto.Signer, error) {
	if m.AccountKey != nil {
		return m.AccountKey, nil
	}
	if m.Cache == nil {
		return newKey()
	}
	name := m.accountName()
	data, err := m.Cache.Get(ctx, name)
	if err == nil {
		key, _, err := decodeKey(data)
		if err != nil {
			return nil, fmt.Errorf("acme: cached account key %s: %w", name, err)
		}
		return key, nil
	}
	if !errors.Is(err, ErrCacheMiss) {
		return nil, fmt.Errorf("acme: read the account key: %w", err)
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	pemKey, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	if err := m.Cache.Put(ctx, name, pemKey); err != nil {
		return nil, fmt.Errorf("acme: store the account key: %w", err)
	}
	return key, nil
}
