// Package transport reaches a Git remote through a dial function, so
// through pasteur's own TCP/IP stack when it has one: git:// and ssh are
// this package's own clients on go-git's protocol encoders (ssh on
// golang.org/x/crypto/ssh, host keys pinned), https is go-git's smart-HTTP
// client on an *http.Client that dials with it. go-git's global transport
// registry is never used.
//
// A Remote opens one exchange at a time: a Fetch (git-upload-pack) or a
// Push (git-receive-pack), each reading the remote's references first.
package transport

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// DialFunc connects to addr ("host:port") over network ("tcp"), as
// netx.Network.Dial does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Auth holds the credentials and the trust for ssh and https remotes; the
// zero value suits git://. Its fields are gitsync.Auth's.
type Auth struct {
	SSHKey      crypto.Signer  // signs in to ssh remotes
	SSHHostKeys []string       // "SHA256:..." fingerprints an ssh remote may present
	SSHInsecure bool           // any host key is accepted
	Token       string         // the https password, sent with basic auth
	RootCAs     *x509.CertPool // for https; nil is the system's
}

var (
	// ErrNoBranch: the remote has no commit on the branch (an empty
	// repository, or another branch only).
	ErrNoBranch = errors.New("remote has no commit on the branch")
	// ErrRejected: the remote refused to move its branch, which holds
	// commits that the pushed tip lacks (another writer pushed first).
	ErrRejected = errors.New("push rejected: the remote branch moved")
	// ErrHostKey: an ssh remote presented a host key that is not pinned.
	ErrHostKey = errors.New("ssh host key not trusted")
	// ErrUnsupported: the remote does not offer what a fetch needs (a
	// shallow or filtered fetch).
	ErrUnsupported = errors.New("the remote does not offer this kind of fetch")
)

// Remote is a Git repository to fetch from and push to.
type Remote struct {
	name string // the URL, without password, for messages
	ep   *transport.Endpoint
	tr   transport.Transport
	auth transport.AuthMethod // nil for git:// and ssh
}

// New returns the remote at url (git://, ssh:// or user@host:path, http://
// or https://), reached with dial. A password in an https url is used as
// auth.Token when that is "", and kept out of Name.
func New(url string, dial DialFunc, auth Auth) (*Remote, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return nil, err
	}
	shown := *ep
	shown.Password = ""
	r := &Remote{name: shown.String(), ep: ep}
	if dial == nil {
		return nil, errors.New("no dial function")
	}
	switch ep.Protocol {
	case "git":
		r.tr = &gitTransport{dial: dial}
	case "ssh":
		r.tr, err = newSSHTransport(dial, auth)
	case "https", "http":
		r.tr, r.auth = newHTTPTransport(ep, dial, auth)
	default:
		err = fmt.Errorf("protocol %q is not supported (git://, ssh:// or user@host:path, https://)", ep.Protocol)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Protocol returns the protocol of url as New reads it: "git", "ssh",
// "http", "https", or another it refuses.
func Protocol(url string) (string, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return "", err
	}
	return ep.Protocol, nil
}

// Name is the remote's URL, without its password.
func (r *Remote) Name() string { return r.name }

// Permanent reports whether err from a remote is a configuration problem
// that waiting will not fix: the repository or the credentials are wrong,
// or the server is not the one pinned or trusted.
func Permanent(err error) bool {
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return true
	}
	for _, e := range []error{ErrHostKey, transport.ErrRepositoryNotFound, transport.ErrAuthenticationRequired,
		transport.ErrAuthorizationFailed, transport.ErrInvalidAuthMethod} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
