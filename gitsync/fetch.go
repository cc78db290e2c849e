package gitsync

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// fetch brings the commits of the remote branch into the repository, points
// the remote-tracking ref at its tip and returns the tip. It returns an
// error wrapping errNoBranch when the remote has no such branch. The local
// branch is left alone. The caller holds the writer lock.
func (s *Store) fetch(ctx context.Context) (plumbing.Hash, error) {
	r := s.remote
	sess, err := r.tr.NewUploadPackSession(r.ep, r.auth)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return plumbing.ZeroHash, errNoBranch
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	tip, err := advertised(ar, r.branch)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if tip.IsZero() {
		return plumbing.ZeroHash, errNoBranch
	}

	s.mu.Lock()
	have := s.repo.has(tip)
	var haves []plumbing.Hash
	for _, name := range []plumbing.ReferenceName{r.branch, r.tracking} {
		if h, err := s.repo.ref(name); err == nil && !h.IsZero() {
			haves = append(haves, h)
		}
	}
	s.mu.Unlock()

	if !have {
		// The pack is received before the repository is locked, so that
		// readers do not wait on the network.
		pack, err := download(ctx, sess, ar, tip, haves)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		in, err := s.repo.receive(pack)
		pack.Close()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		s.mu.Lock()
		err = s.repo.add(in)
		s.mu.Unlock()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("store pack: %w", err)
		}
		s.log.Debug("gitsync: fetched", "remote", r.name, "tip", tip.String(), "bytes", in.size)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.repo.has(tip) {
		return plumbing.ZeroHash, fmt.Errorf("fetched pack lacks the tip %s", tip)
	}
	if err := s.repo.setRef(r.tracking, tip); err != nil {
		return plumbing.ZeroHash, err
	}
	return tip, nil
}

// download asks for the history of want, telling the remote the commits we
// have, and returns the packfile it sends, as it arrives. Closing it ends
// the exchange.
func download(ctx context.Context, sess transport.UploadPackSession, ar *packp.AdvRefs, want plumbing.Hash, haves []plumbing.Hash) (io.ReadCloser, error) {
	req := packp.NewUploadPackRequest()
	caps := ar.Capabilities
	sb := capability.Capability("")
	switch {
	case caps.Supports(capability.Sideband64k):
		sb = capability.Sideband64k
	case caps.Supports(capability.Sideband):
		sb = capability.Sideband
	}
	for _, c := range []capability.Capability{sb, capability.OFSDelta, capability.NoProgress} {
		if c != "" && caps.Supports(c) {
			if err := req.Capabilities.Set(c); err != nil {
				return nil, err
			}
		}
	}
	if caps.Supports(capability.Agent) {
		if err := req.Capabilities.Set(capability.Agent, capability.DefaultAgent()); err != nil {
			return nil, err
		}
	}
	req.Wants = []plumbing.Hash{want}
	req.Haves = haves

	res, err := sess.UploadPack(ctx, req)
	if err != nil {
		return nil, err
	}
	switch sb {
	case capability.Sideband64k:
		return readCloser{sideband.NewDemuxer(sideband.Sideband64k, res), res}, nil
	case capability.Sideband:
		return readCloser{sideband.NewDemuxer(sideband.Sideband, res), res}, nil
	}
	return res, nil
}

// readCloser reads from Reader and closes Closer.
type readCloser struct {
	io.Reader
	io.Closer
}

// advertised returns the commit that the remote advertises for name,
// ZeroHash when none.
func advertised(ar *packp.AdvRefs, name plumbing.ReferenceName) (plumbing.Hash, error) {
	refs, err := ar.AllReferences()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	ref, err := refs.Reference(name)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return ref.Hash(), nil
}
