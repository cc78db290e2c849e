package gittest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/pasteur-dev/pasteur/netx"
)

// SSHServer is an ssh server on loopback that runs git-upload-pack and
// git-receive-pack (git's own) on the repositories in a directory, for one
// client key, as git-shell would.
type SSHServer struct {
	Addr    string        // host:port
	HostKey ssh.PublicKey // its host key
}

// NewKey returns a new Ed25519 key.
func NewKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// StartSSH runs an SSHServer for the repositories in base that lets in the
// holder of client; it stops when the test ends.
func StartSSH(t testing.TB, base string, client ed25519.PrivateKey) *SSHServer {
	t.Helper()
	Require(t)
	execPath := ExecPath(t)
	env := Env(t)
	host, err := ssh.NewSignerFromSigner(NewKey(t))
	if err != nil {
		t.Fatal(err)
	}
	clientPub, err := ssh.NewPublicKey(client.Public())
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(k.Marshal(), clientPub.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(host)
	l, err := (&netx.Host{}).Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveSSH(c, cfg, base, execPath, env) })
		}
	})
	return &SSHServer{Addr: l.Addr().String(), HostKey: host.PublicKey()}
}

// serveSSH serves one connection: sessions whose exec request runs
// "git-upload-pack 'PATH'" or "git-receive-pack 'PATH'".
func serveSSH(c net.Conn, cfg *ssh.ServerConfig, base, execPath string, env []string) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range creqs {
				var exec struct{ Command string }
				if req.Type != "exec" || ssh.Unmarshal(req.Payload, &exec) != nil {
					req.Reply(false, nil)
					continue
				}
				req.Reply(true, nil)
				code := runGit(ch, exec.Command, base, execPath, env)
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Code uint32 }{code}))
				return
			}
		}()
	}
}

// runGit runs command as git-shell would, on ch.
func runGit(ch ssh.Channel, command, base, execPath string, env []string) uint32 {
	service, path, ok := strings.Cut(command, " ")
	if !ok || service != "git-upload-pack" && service != "git-receive-pack" {
		io.WriteString(ch.Stderr(), "unknown command\n")
		return 1
	}
	path = strings.Trim(path, "'")
	cmd := exec.Command(filepath.Join(execPath, service), filepath.Join(base, filepath.Clean("/"+path)))
	cmd.Env = env
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	in, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		return 1
	}
	go func() { io.Copy(in, ch); in.Close() }()
	if err := cmd.Wait(); err != nil {
		return 1
	}
	return 0
}
