package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// DialFunc connects to addr ("host:port") over network ("tcp"), as
// netx.Network.Dial does.
const (
	gitDefaultPort = 9418
	// ioTimeout bounds each read and write on a remote connection, so that
	// a silent remote does not hold the repository forever when the
	// caller's context has no deadline.
	ioTimeout = time.Minute
)

// gitTransport is a go-git transport.Transport for git:// remotes (the git
// daemon protocol: no authentication, no encryption) over connections made
// by dial. It speaks protocol v0: a request line naming the service, the
// advertised references, then the exchange of git-upload-pack or
// git-receive-pack.
type gitTransport struct {
	dial DialFunc
}

// NewUploadPackSession implements transport.Transport.
func (t *gitTransport) NewUploadPackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.UploadPackSession, error) {
	return t.newSession(ep, auth, transport.UploadPackServiceName)
}

// NewReceivePackSession implements transport.Transport.
func (t *gitTransport) NewReceivePackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.ReceivePackSession, error) {
	return t.newSession(ep, auth, transport.ReceivePackServiceName)
}

func (t *gitTransport) newSession(ep *transport.Endpoint, auth transport.AuthMethod, service string) (*gitSession, error) {
	if auth != nil {
		return nil, transport.ErrInvalidAuthMethod
	}
	return &gitSession{open: t.open, ep: ep, service: service}, nil
}

// open connects to the daemon and asks for service.
func (t *gitTransport) open(ctx context.Context, ep *transport.Endpoint, service string) (io.ReadWriteCloser, error) {
	host := strings.Trim(ep.Host, "[]")
	port := ep.Port
	if port <= 0 {
		port = gitDefaultPort
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	dctx, cancel := context.WithTimeout(ctx, ioTimeout)
	defer cancel()
	conn, err := t.dial(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &idleConn{Conn: conn, timeout: ioTimeout}
	// The host parameter is for virtual hosting; git sends the port only
	// when it is not the default.
	vhost := ep.Host
	if port != gitDefaultPort {
		vhost = addr
	}
	req := packp.GitProtoRequest{RequestCommand: service, Pathname: ep.Path, Host: vhost}
	if err := req.Encode(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// gitSession is one exchange with git-upload-pack or git-receive-pack over
// a byte stream: a git daemon connection, or an ssh session. The first call
// that needs the stream opens it with its context. Cancelling the context
// of the latest call closes the stream, until Close: a response returned by
// UploadPack is read under the context UploadPack was given.
type gitSession struct {
	open    func(ctx context.Context, ep *transport.Endpoint, service string) (io.ReadWriteCloser, error)
	ep      *transport.Endpoint
	service string

	conn    io.ReadWriteCloser
	unwatch func() bool
	adv     *packp.AdvRefs
	ran     bool // a pack exchange began: the server ends the connection
	closed  bool
}

// watch makes ctx's cancellation close the connection.
func (s *gitSession) watch(ctx context.Context) {
	if s.unwatch != nil {
		s.unwatch()
	}
	conn := s.conn
	s.unwatch = context.AfterFunc(ctx, func() { conn.Close() })
}

func (s *gitSession) connect(ctx context.Context) error {
	if s.closed {
		return net.ErrClosed
	}
	if s.conn == nil {
		conn, err := s.open(ctx, s.ep, s.service)
		if err != nil {
			return err
		}
		s.conn = conn
	}
	s.watch(ctx)
	return nil
}

// AdvertisedReferences implements transport.Session.
func (s *gitSession) AdvertisedReferences() (*packp.AdvRefs, error) {
	return s.AdvertisedReferencesContext(context.Background())
}

// AdvertisedReferencesContext implements transport.Session: the remote's
// references and capabilities. A repository that the daemon does not serve
// is transport.ErrRepositoryNotFound; one without commits is
// transport.ErrEmptyRemoteRepository for git-upload-pack.
func (s *gitSession) AdvertisedReferencesContext(ctx context.Context) (*packp.AdvRefs, error) {
	if s.adv != nil {
		return s.adv, nil
	}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	upload := s.service == transport.UploadPackServiceName
	ar := packp.NewAdvRefs()
	err := ar.Decode(s.conn)
	var errLine *pktline.ErrorLine
	switch {
	case err == nil:
	case errors.Is(err, packp.ErrEmptyAdvRefs) && !upload:
	case errors.Is(err, packp.ErrEmptyAdvRefs):
		return nil, transport.ErrEmptyRemoteRepository
	case errors.Is(err, packp.ErrEmptyInput):
		// git daemon hangs up without a word on a path it does not serve;
		// over ssh, git says why on its standard error.
		if e, ok := s.conn.(interface{ stderr() string }); ok && e.stderr() != "" {
			return nil, fmt.Errorf("%w: %s", transport.ErrRepositoryNotFound, e.stderr())
		}
		return nil, fmt.Errorf("%w (or not exported): the daemon closed the connection", transport.ErrRepositoryNotFound)
	case errors.As(err, &errLine):
		return nil, fmt.Errorf("%w: %s", transport.ErrRepositoryNotFound, errLine.Text)
	default:
		return nil, err
	}
	if upload && ar.IsEmpty() {
		return nil, transport.ErrEmptyRemoteRepository
	}
	// go-git's filter would take thin-pack too: the completion of a
	// partial repository asks for it (repo.ReceiveThin completes the
	// packs). go-git's http transport filters it: https remotes send
	// whole packs.
	ar.Capabilities.Delete(capability.MultiACK)
	ar.Capabilities.Delete(capability.MultiACKDetailed)
	s.adv = ar
	return ar, nil
}

// UploadPack implements transport.UploadPackSession: it sends the wants,
// the haves and "done", and returns the server's answer. The packfile that
// follows is multiplexed when req asked for side-band; the caller
// demultiplexes it, as with go-git's own transports.
func (s *gitSession) UploadPack(ctx context.Context, req *packp.UploadPackRequest) (*packp.UploadPackResponse, error) {
	if req.IsEmpty() {
		return nil, transport.ErrEmptyUploadPackRequest
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.AdvertisedReferencesContext(ctx); err != nil {
		return nil, err
	}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	s.ran = true
	w := bufio.NewWriter(s.conn)
	if err := req.UploadRequest.Encode(w); err != nil {
		return nil, fmt.Errorf("send wants: %w", err)
	}
	if err := req.UploadHaves.Encode(w, true); err != nil {
		return nil, fmt.Errorf("send haves: %w", err)
	}
	if err := pktline.NewEncoder(w).EncodeString("done\n"); err != nil {
		return nil, fmt.Errorf("send done: %w", err)
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	res := packp.NewUploadPackResponse(req)
	if err := res.Decode(sessionReader{s}); err != nil {
		return nil, fmt.Errorf("read upload-pack response: %w", err)
	}
	return res, nil
}

// ReceivePack implements transport.ReceivePackSession: it sends the
// reference updates and their packfile, and returns the server's report,
// with an error when the report says something failed.
func (s *gitSession) ReceivePack(ctx context.Context, req *packp.ReferenceUpdateRequest) (*packp.ReportStatus, error) {
	if _, err := s.AdvertisedReferencesContext(ctx); err != nil {
		return nil, err
	}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	s.ran = true
	w := bufio.NewWriterSize(s.conn, 64<<10)
	if err := req.Encode(w); err != nil {
		return nil, fmt.Errorf("send update: %w", err)
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if !req.Capabilities.Supports(capability.ReportStatus) {
		return nil, nil
	}
	var r io.Reader = s.conn
	var d *sideband.Demuxer
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		d = sideband.NewDemuxer(sideband.Sideband64k, r)
	case req.Capabilities.Supports(capability.Sideband):
		d = sideband.NewDemuxer(sideband.Sideband, r)
	}
	if d != nil {
		d.Progress = req.Progress
		r = d
	}
	rs := packp.NewReportStatus()
	if err := rs.Decode(r); err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	return rs, rs.Error()
}

// Close implements transport.Session. It may be called more than once.
func (s *gitSession) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.conn == nil {
		return nil
	}
	if s.unwatch != nil {
		s.unwatch()
	}
	var err error
	if s.adv != nil && !s.ran {
		// Nothing asked: a flush tells the server we are done.
		_, err = s.conn.Write(pktline.FlushPkt)
	}
	if cerr := s.conn.Close(); err == nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	return err
}

// sessionReader reads the session's connection and closes the session.
type sessionReader struct{ s *gitSession }

func (r sessionReader) Read(p []byte) (int, error) { return r.s.conn.Read(p) }
func (r sessionReader) Close() error               { return r.s.Close() }

// idleConn is a connection whose every read and write must progress within
// timeout.
type idleConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
