package acme

import (
	"context"
	"errors"
	"strings"
)

// loadCached starts serving the cached certificate, if it is usable.
func (m *Manager) loadCached(ctx context.Context) {
	if m.Cache == nil {
		return
	}
	name := m.certName()
	data, err := m.Cache.Get(ctx, name)
	if errors.Is(err, ErrCacheMiss) {
		return
	}
	if err != nil {
		m.log().Warn("cannot read the cached certificate", "name", name, "err", err)
		return
	}
	c, err := decodeCert(data)
	if err == nil {
		err = checkLeaf(c.Leaf, m.Hosts, m.clock())
	}
	if err == nil && m.CertKey != nil && !samePublicKey(m.CertKey.Public(), c.Leaf.PublicKey) {
		err = errors.New("its key is not the one from the certificate seed")
	}
	if err != nil {
		m.log().Warn("not using the cached certificate", "name", name, "reason", err)
		return
	}
	m.setCert(c, true)
	m.log().Info("certificate loaded from the cache", "hosts", m.Hosts, "serial", c.Leaf.SerialNumber.Text(16),
		"not_after", c.Leaf.NotAfter.UTC(), "renew_at", renewAt(c.Leaf.NotBefore, c.Leaf.NotAfter).UTC())
}

// certName and accountName are the Cache names, per CA: a certificate from
// the staging CA is never served once the production CA is configured.
func (m *Manager) certName() string {
	return m.Hosts[0] + "+" + m.caLabel() + ".pem"
}

func (m *Manager) accountName() string {
	return "account+" + m.caLabel() + ".key"
}

// caLabel names the CA in file names: its directory's host and port.
func (m *Manager) caLabel() string {
	s := strings.TrimPrefix(strings.TrimPrefix(m.directory(), "https://"), "http://")
	s, path, _ := strings.Cut(s, "/")
	if path != "" && path != "directory" && path != "dir" {
		s += "_" + path
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}
