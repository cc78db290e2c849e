package transport

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Fetch is an exchange with git-upload-pack: the remote's references, then
// at most one pack. It is not safe for concurrent use.
type Fetch struct {
	sess transport.UploadPackSession
	adv  *packp.AdvRefs
}

// Fetch opens a fetch and reads the remote's references. A remote without
// any commit is an error wrapping ErrNoBranch.
func (r *Remote) Fetch(ctx context.Context) (*Fetch, error) {
	sess, err := r.tr.NewUploadPackSession(r.ep, r.auth)
	if err != nil {
		return nil, err
	}
	adv, err := sess.AdvertisedReferencesContext(ctx)
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		err = ErrNoBranch
	}
	if err != nil {
		sess.Close()
		return nil, err
	}
	return &Fetch{sess: sess, adv: adv}, nil
}

// Tip returns the commit the remote's branch points at, ZeroHash when it
// has no such branch.
func (f *Fetch) Tip(branch plumbing.ReferenceName) (plumbing.Hash, error) {
	return advertised(f.adv, branch)
}

// PackOptions narrow what Pack asks for. The zero value asks for the whole
// history of the wanted commits, without progress.
type PackOptions struct {
	// Depth > 0 asks for that many commits of history only (a shallow
	// fetch); the remote must advertise "shallow".
	Depth int
	// Shallows are the commits whose parents the local repository lacks
	// (its shallow boundary), sent so that the remote does not count on
	// them.
	Shallows []plumbing.Hash
	// Filter leaves objects out of the pack ("tree:0", "blob:none"); the
	// remote must advertise "filter".
	Filter string
	// Thin asks for a thin pack, when the remote offers it: deltas whose
	// bases are objects that the haves reach, left out of the pack, for
	// the caller to complete it (repo.ReceiveThin).
	Thin bool
	// Progress, when set, is called with the number of bytes of every
	// read of the pack and of every progress message of the remote, so
	// that the caller sees that the exchange moves while the remote is
	// still counting objects.
	Progress func(n int)
}

// Supports reports whether the remote offers what o needs.
func (f *Fetch) Supports(o PackOptions) bool {
	caps := f.adv.Capabilities
	return (o.Depth == 0 && len(o.Shallows) == 0 || caps.Supports(capability.Shallow)) &&
		(o.Filter == "" || caps.Supports(capability.Filter))
}

// Pack asks for want (commits, or any object by hash when the remote
// allows it), telling the remote the commits that haves name, and returns
// the packfile it sends, as it arrives, and, for a shallow fetch, the
// commits that are the new shallow boundary. Closing it ends the exchange.
func (f *Fetch) Pack(ctx context.Context, wants, haves []plumbing.Hash, o PackOptions) (io.ReadCloser, []plumbing.Hash, error) {
	if !f.Supports(o) {
		return nil, nil, ErrUnsupported
	}
	req := packp.NewUploadPackRequest()
	caps := f.adv.Capabilities
	sb := capability.Capability("")
	switch {
	case caps.Supports(capability.Sideband64k):
		sb = capability.Sideband64k
	case caps.Supports(capability.Sideband):
		sb = capability.Sideband
	}
	set := []capability.Capability{sb, capability.OFSDelta}
	if o.Progress == nil {
		set = append(set, capability.NoProgress)
	}
	if o.Depth > 0 || len(o.Shallows) > 0 {
		set = append(set, capability.Shallow)
	}
	if o.Filter != "" {
		set = append(set, capability.Filter)
	}
	if o.Thin {
		set = append(set, capability.ThinPack)
	}
	for _, c := range set {
		if c != "" && caps.Supports(c) {
			if err := req.Capabilities.Set(c); err != nil {
				return nil, nil, err
			}
		}
	}
	if caps.Supports(capability.Agent) {
		if err := req.Capabilities.Set(capability.Agent, capability.DefaultAgent()); err != nil {
			return nil, nil, err
		}
	}
	req.Wants = wants
	req.Haves = haves
	req.Shallows = o.Shallows
	if o.Depth > 0 {
		req.Depth = packp.DepthCommits(o.Depth)
	}
	req.Filter = packp.Filter(o.Filter)

	res, err := f.sess.UploadPack(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	shallow := res.ShallowUpdate.Shallows
	var rd io.Reader = res
	switch sb {
	case capability.Sideband64k, capability.Sideband:
		d := sideband.NewDemuxer(sb2type(sb), res)
		if o.Progress != nil {
			d.Progress = progressWriter(o.Progress)
		}
		rd = d
	}
	if o.Progress != nil {
		rd = &countingReader{rd, o.Progress}
	}
	return readCloser{rd, res}, shallow, nil
}

// sb2type is the demuxer's type for side-band capability c.
func sb2type(c capability.Capability) sideband.Type {
	if c == capability.Sideband64k {
		return sideband.Sideband64k
	}
	return sideband.Sideband
}

// progressWriter takes the remote's progress messages and reports their
// length.
type progressWriter func(n int)

func (w progressWriter) Write(p []byte) (int, error) {
	w(len(p))
	return len(p), nil
}

// countingReader reports the length of every read.
type countingReader struct {
	io.Reader
	progress func(n int)
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if n > 0 {
		r.progress(n)
	}
	return n, err
}

// Close ends the exchange.
func (f *Fetch) Close() error { return f.sess.Close() }

// readCloser reads from Reader and closes Closer.
type readCloser struct {
	io.Reader
	io.Closer
}

// Push is an exchange with git-receive-pack: the remote's references, then
// at most one update. It is not safe for concurrent use.
type Push struct {
	sess transport.ReceivePackSession
	adv  *packp.AdvRefs
}

// Push opens a push and reads the remote's references.
func (r *Remote) Push(ctx context.Context) (*Push, error) {
	sess, err := r.tr.NewReceivePackSession(r.ep, r.auth)
	if err != nil {
		return nil, err
	}
	adv, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		sess.Close()
		return nil, err
	}
	return &Push{sess: sess, adv: adv}, nil
}

// Tip returns the commit the remote's branch points at, ZeroHash when it
// has no such branch.
func (p *Push) Tip(branch plumbing.ReferenceName) (plumbing.Hash, error) {
	return advertised(p.adv, branch)
}

// Refs returns the commits the remote's references point at.
func (p *Push) Refs() ([]plumbing.Hash, error) {
	refs, err := p.adv.AllReferences()
	if err != nil {
		return nil, err
	}
	iter, err := refs.IterReferences()
	if err != nil {
		return nil, err
	}
	var out []plumbing.Hash
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() == plumbing.HashReference {
			out = append(out, ref.Hash())
		}
		return nil
	})
	return out, err
}

// RefDeltas reports whether a pack for the remote must not hold offset
// deltas.
func (p *Push) RefDeltas() bool { return !p.adv.Capabilities.Supports(capability.OFSDelta) }

// noThin is the capability by which a remote asks not to be sent thin
// packs (deltas against objects it holds rather than the pack).
const noThin capability.Capability = "no-thin"

// Thin reports whether a pack for the remote may be thin: git's
// receive-pack completes one with the objects it holds.
func (p *Push) Thin() bool { return !p.adv.Capabilities.Supports(noThin) }

// Send moves the remote branch (or any ref) from old (ZeroHash: no
// branch) to tip (ZeroHash: deletes it), sending pack, which holds the
// objects it lacks. The remote moves it only if it is still at old, so a
// tip that does not descend from old is a push with a lease. An update
// the remote refuses is an error wrapping ErrRefused, with the remote's
// reason and what its hooks printed: the caller looks at the remote's
// references again to tell a lost race (the branch moved) from a refusal.
func (p *Push) Send(ctx context.Context, branch plumbing.ReferenceName, old, tip plumbing.Hash, pack []byte) error {
	return p.SendFrom(ctx, branch, old, tip, bytes.NewReader(pack))
}

// quiet asks git receive-pack for no progress messages (go-git has no
// name for it).
const quiet = capability.Capability("quiet")

// SendFrom is Send with the pack read from pack (nil for a deletion),
// for a pack too large to hold in memory.
func (p *Push) SendFrom(ctx context.Context, branch plumbing.ReferenceName, old, tip plumbing.Hash, pack io.Reader) error {
	if !p.adv.Capabilities.Supports(capability.ReportStatus) {
		return errors.New("the remote does not offer report-status")
	}
	req := packp.NewReferenceUpdateRequest()
	if err := req.Capabilities.Set(capability.ReportStatus); err != nil {
		return err
	}
	said := &remoteSays{}
	if p.adv.Capabilities.Supports(capability.Sideband64k) {
		// The hooks' messages come on channel 2: the reason of a refusal.
		if err := req.Capabilities.Set(capability.Sideband64k); err != nil {
			return err
		}
		req.Progress = said
	}
	if p.adv.Capabilities.Supports(quiet) {
		// No progress of the remote's index-pack ("Resolving deltas",
		// which a thin pack makes long) on channel 2, where it would fill
		// the room kept for a refusal's reason.
		if err := req.Capabilities.Set(quiet); err != nil {
			return err
		}
	}
	if p.adv.Capabilities.Supports(capability.Agent) {
		if err := req.Capabilities.Set(capability.Agent, capability.DefaultAgent()); err != nil {
			return err
		}
	}
	req.Commands = []*packp.Command{{Name: branch, Old: old, New: tip}}
	if pack == nil {
		pack = bytes.NewReader(nil)
	}
	req.Packfile = io.NopCloser(pack)
	if tip.IsZero() {
		// A deletion sends no pack.
		if !p.adv.Capabilities.Supports(capability.DeleteRefs) {
			return errors.New("the remote does not offer delete-refs")
		}
		if err := req.Capabilities.Set(capability.DeleteRefs); err != nil {
			return err
		}
		req.Packfile = nil
	}
	rs, err := p.sess.ReceivePack(ctx, req)
	if rerr := refusal(rs, branch, said.String()); rerr != nil {
		return rerr
	}
	return err
}

// Close ends the exchange.
func (p *Push) Close() error { return p.sess.Close() }

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
