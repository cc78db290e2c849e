package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"
)

// sshTransport is a go-git transport.Transport for ssh remotes: one ssh
// connection per session, made over dial, running git-upload-pack or
// git-receive-pack as git does ("git-upload-pack 'path'"); the exchange
// then is the one of git://.
type sshTransport struct {
	dial   DialFunc
	config ssh.ClientConfig
}

func newSSHTransport(dial DialFunc, auth Auth) (*sshTransport, error) {
	if auth.SSHKey == nil {
		return nil, errors.New("an ssh remote needs a key to sign in with")
	}
	signer, err := ssh.NewSignerFromSigner(auth.SSHKey)
	if err != nil {
		return nil, err
	}
	t := &sshTransport{dial: dial}
	t.config.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	t.config.Timeout = ioTimeout
	switch {
	case len(auth.SSHHostKeys) > 0:
		pins := make(map[string]bool)
		for _, p := range auth.SSHHostKeys {
			if !strings.HasPrefix(p, "SHA256:") {
				return nil, fmt.Errorf("host key fingerprint %q: want SHA256:... as ssh-keygen -lf prints it", p)
			}
			pins[strings.TrimRight(p, "=")] = true
		}
		t.config.HostKeyCallback = func(host string, _ net.Addr, key ssh.PublicKey) error {
			if fp := ssh.FingerprintSHA256(key); !pins[fp] {
				return fmt.Errorf("%w: %s presented %s %s", ErrHostKey, host, key.Type(), fp)
			}
			return nil
		}
	case auth.SSHInsecure:
		t.config.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	default:
		return nil, errors.New("an ssh remote needs its host key's fingerprint, or to accept any host key")
	}
	return t, nil
}

// NewUploadPackSession implements transport.Transport.
func (t *sshTransport) NewUploadPackSession(ep *transport.Endpoint, _ transport.AuthMethod) (transport.UploadPackSession, error) {
	return &gitSession{open: t.open, ep: ep, service: transport.UploadPackServiceName}, nil
}

// NewReceivePackSession implements transport.Transport.
func (t *sshTransport) NewReceivePackSession(ep *transport.Endpoint, _ transport.AuthMethod) (transport.ReceivePackSession, error) {
	return &gitSession{open: t.open, ep: ep, service: transport.ReceivePackServiceName}, nil
}

// open signs in to the server and runs service on the repository.
func (t *sshTransport) open(ctx context.Context, ep *transport.Endpoint, service string) (io.ReadWriteCloser, error) {
	port := ep.Port
	if port <= 0 {
		port = 22
	}
	addr := net.JoinHostPort(strings.Trim(ep.Host, "[]"), strconv.Itoa(port))
	dctx, cancel := context.WithTimeout(ctx, ioTimeout)
	defer cancel()
	raw, err := t.dial(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn := &idleConn{Conn: raw, timeout: ioTimeout}
	// The handshake is bounded by ctx too.
	stop := context.AfterFunc(dctx, func() { raw.Close() })
	cfg := t.config
	cfg.User = ep.User
	if cfg.User == "" {
		cfg.User = "git"
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, &cfg)
	stop()
	if err != nil {
		raw.Close()
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("%w: %w", transport.ErrAuthenticationRequired, err)
		}
		return nil, err
	}
	client := ssh.NewClient(c, chans, reqs)
	sess, err := client.NewSession()
	if err != nil {
		client.Close()
		return nil, err
	}
	s := &sshStream{client: client, sess: sess}
	sess.Stderr = &s.errBuf
	if s.in, err = sess.StdinPipe(); err == nil {
		s.out, err = sess.StdoutPipe()
	}
	if err == nil {
		err = sess.Start(service + " " + quote(ep.Path))
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// quote quotes a path for the remote shell (git-shell accepts this form).
func quote(path string) string {
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// sshStream is the standard input and output of a command on the server.
type sshStream struct {
	client *ssh.Client
	sess   *ssh.Session
	in     io.WriteCloser
	out    io.Reader
	errBuf lockedBuffer
	once   sync.Once
}

func (s *sshStream) Read(p []byte) (int, error)  { return s.out.Read(p) }
func (s *sshStream) Write(p []byte) (int, error) { return s.in.Write(p) }

func (s *sshStream) Close() error {
	s.once.Do(func() {
		if s.in != nil {
			s.in.Close()
		}
		s.sess.Close()
		s.client.Close()
	})
	return nil
}

// stderr is what the command said on its standard error, for messages.
func (s *sshStream) stderr() string {
	return strings.TrimSpace(s.errBuf.String())
}

// lockedBuffer collects the first KiB written to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 1024 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
