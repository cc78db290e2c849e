package transport

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

	gittransport "github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/netx"
)

// sshServer is an ssh server on loopback that runs git-upload-pack and
// git-receive-pack (git's own) on the repositories in base, for one client
// key.
type sshServer struct {
	addr    string
	hostKey ssh.PublicKey
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func startSSH(t *testing.T, base string, client ed25519.PrivateKey) *sshServer {
	t.Helper()
	gittest.Require(t)
	execPath := gittest.ExecPath(t)
	env := gittest.Env(t)
	host, err := ssh.NewSignerFromSigner(newKey(t))
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
	return &sshServer{addr: l.Addr().String(), hostKey: host.PublicKey()}
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

func TestSSH(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "r.git")
	gittest.Bare(t, dir, true)
	client := newKey(t)
	srv := startSSH(t, base, client)
	pin := ssh.FingerprintSHA256(srv.hostKey)
	url := "ssh://git@" + srv.addr + "/r.git"

	r, err := New(url, dial, Auth{SSHKey: client, SSHHostKeys: []string{pin}})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, r, dir)

	tests := []struct {
		name string
		url  string
		auth Auth
		want error
	}{
		{"another host key", url, Auth{SSHKey: client, SSHHostKeys: []string{"SHA256:AAAA"}}, ErrHostKey},
		{"an unknown client key", url, Auth{SSHKey: newKey(t), SSHInsecure: true}, gittransport.ErrAuthenticationRequired},
		{"no repository", "ssh://git@" + srv.addr + "/nosuch.git", Auth{SSHKey: client, SSHInsecure: true}, gittransport.ErrRepositoryNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.url, dial, tt.auth)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Fetch(ctx(t))
			if !errors.Is(err, tt.want) || !Permanent(err) {
				t.Errorf("%v, want %v (permanent)", err, tt.want)
			}
			t.Log(err)
		})
	}
}
