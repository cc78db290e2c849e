package gitsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/revlist"
)

// push points the remote branch at tip, sending the objects it lacks. It
// returns an error wrapping errRejected when that would not be a
// fast-forward (the remote holds commits that tip lacks), and on success
// points the remote-tracking ref at tip. The caller holds the writer lock.
func (s *Store) push(ctx context.Context, tip plumbing.Hash) error {
	r := s.remote
	sess, err := r.tr.NewReceivePackSession(r.ep, r.auth)
	if err != nil {
		return err
	}
	defer sess.Close()
	t0 := time.Now()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return err
	}
	tAdv := time.Since(t0)
	old, err := advertised(ar, r.branch)
	if err != nil {
		return err
	}
	if old != tip {
		if !ar.Capabilities.Supports(capability.ReportStatus) {
			return errors.New("the remote does not offer report-status")
		}
		t1 := time.Now()
		s.mu.Lock()
		pack, err := s.packFor(tip, old, ar)
		s.mu.Unlock()
		if err != nil {
			return err
		}
		tPack := time.Since(t1)

		req := packp.NewReferenceUpdateRequest()
		if err := req.Capabilities.Set(capability.ReportStatus); err != nil {
			return err
		}
		if ar.Capabilities.Supports(capability.Agent) {
			if err := req.Capabilities.Set(capability.Agent, capability.DefaultAgent()); err != nil {
				return err
			}
		}
		req.Commands = []*packp.Command{{Name: r.branch, Old: old, New: tip}}
		req.Packfile = io.NopCloser(bytes.NewReader(pack))
		rs, err := sess.ReceivePack(ctx, req)
		if err != nil {
			if rs != nil && rs.UnpackStatus == "ok" {
				// The remote refused the update: it moved since it
				// advertised old.
				return fmt.Errorf("%w: %v", errRejected, err)
			}
			return err
		}
		s.log.Debug("gitsync: pushed", "remote", r.name, "tip", tip.String(), "bytes", len(pack),
			"advertised", tAdv.String(), "pack", tPack.String(), "total", time.Since(t0).String())
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repo.setRef(r.tracking, tip)
}

// packFor returns the packfile that takes the remote branch from old
// (ZeroHash: no branch) to tip, or an error wrapping errRejected when old is
// not an ancestor of tip. The caller holds s.mu.
func (s *Store) packFor(tip, old plumbing.Hash, ar *packp.AdvRefs) ([]byte, error) {
	var hashes []plumbing.Hash
	if old.IsZero() {
		// A new branch: everything, less what the remote's other refs
		// reach. Rare (the first push), and it walks the whole history.
		refs, err := ar.AllReferences()
		if err != nil {
			return nil, err
		}
		var ignore []plumbing.Hash
		iter, err := refs.IterReferences()
		if err != nil {
			return nil, err
		}
		_ = iter.ForEach(func(ref *plumbing.Reference) error {
			if ref.Type() == plumbing.HashReference && s.repo.has(ref.Hash()) {
				ignore = append(ignore, ref.Hash())
			}
			return nil
		})
		if hashes, err = revlist.Objects(s.repo.st, []plumbing.Hash{tip}, ignore); err != nil {
			return nil, err
		}
	} else {
		if !s.repo.has(old) {
			return nil, errRejected
		}
		if c, err := s.repo.commit(tip); err == nil && len(c.ParentHashes) == 1 && c.ParentHashes[0] == old {
			if pack := s.repo.batch.lastPack(tip); pack != nil {
				return pack, nil
			}
		}
		base, err := s.repo.mergeBase(old, tip)
		if err != nil {
			return nil, err
		}
		if base != old {
			return nil, errRejected
		}
		if hashes, err = s.repo.objectsSince(tip, old); err != nil {
			return nil, err
		}
	}

	var buf bytes.Buffer
	useRefDeltas := !ar.Capabilities.Supports(capability.OFSDelta)
	if _, err := packfile.NewEncoder(&buf, s.repo.st, useRefDeltas).Encode(hashes, 0); err != nil {
		return nil, fmt.Errorf("encode pack: %w", err)
	}
	return buf.Bytes(), nil
}

// objectsSince returns the objects that the commits from tip back to base
// (an ancestor of tip on its first-parent line, excluded) add: the commits,
// and the trees and blobs that differ from their parent's. It reads only
// what changed, where revlist.Objects would read every tree of the history.
// A merge commit on the way falls back to revlist.
func (r *repo) objectsSince(tip, base plumbing.Hash) ([]plumbing.Hash, error) {
	line, err := r.commitsSince(tip, base)
	if err != nil {
		return nil, err
	}
	set := make(map[plumbing.Hash]bool)
	var out []plumbing.Hash
	add := func(h plumbing.Hash) {
		if !set[h] {
			set[h] = true
			out = append(out, h)
		}
	}
	for _, c := range line {
		if len(c.ParentHashes) != 1 {
			return revlist.Objects(r.st, []plumbing.Hash{tip}, []plumbing.Hash{base})
		}
		parentTree, err := r.treeOf(c.ParentHashes[0])
		if err != nil {
			return nil, err
		}
		add(c.Hash)
		if c.TreeHash != parentTree {
			add(c.TreeHash)
		}
		err = r.walkChanges(parentTree, c.TreeHash, "", func(_ string, e object.TreeEntry) error {
			if e.Mode != filemode.Submodule {
				add(e.Hash)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
