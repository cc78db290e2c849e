package gitsync

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

var (
	// errNoBranch: the remote has no commit on the branch (an empty
	// repository, or another branch only).
	errNoBranch = errors.New("remote has no commit on the branch")
	// errRejected: the remote branch holds commits that the pushed tip
	// lacks (another writer pushed first).
	errRejected = errors.New("push rejected: the remote branch moved")
)

// remote is the repository that pastes are pushed to and fetched from, and
// the way to reach it. Fetch and push use only the transport.Transport
// interface, so any of go-git's transports can serve.
type remote struct {
	name     string // the URL, without password, for messages
	ep       *transport.Endpoint
	tr       transport.Transport
	auth     transport.AuthMethod   // nil for git://
	branch   plumbing.ReferenceName // on the remote, and locally
	tracking plumbing.ReferenceName // refs/remotes/origin/BRANCH: the remote's tip when last seen
}

func newRemote(url string, branch plumbing.ReferenceName, dial dialFunc, auth Auth) (*remote, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return nil, fmt.Errorf("gitsync: remote %q: %w", url, err)
	}
	shown := *ep
	shown.Password = ""
	r := &remote{
		name:     shown.String(),
		ep:       ep,
		branch:   branch,
		tracking: plumbing.NewRemoteReferenceName("origin", branch.Short()),
	}
	if r.tr, r.auth, err = transportFor(ep, dial, auth); err != nil {
		return nil, fmt.Errorf("gitsync: remote %s: %w", r.name, err)
	}
	return r, nil
}

// transportFor returns the transport and credentials for ep: this
// package's git:// and ssh transports, or go-git's smart HTTP one on an
// *http.Client that dials with dial. go-git's global protocol registry is
// never used.
func transportFor(ep *transport.Endpoint, dial dialFunc, auth Auth) (transport.Transport, transport.AuthMethod, error) {
	if dial == nil {
		return nil, nil, errors.New("no dial function")
	}
	switch ep.Protocol {
	case "git":
		return &gitTransport{dial: dial}, nil, nil
	case "ssh":
		t, err := newSSHTransport(dial, auth)
		return t, nil, err
	case "https", "http":
		t, am := newHTTPTransport(ep, dial, auth)
		return t, am, nil
	default:
		return nil, nil, fmt.Errorf("protocol %q is not supported (git://, ssh:// or user@host:path, https://)", ep.Protocol)
	}
}
