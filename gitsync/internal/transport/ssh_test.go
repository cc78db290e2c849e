package transport

import (
	"errors"
	"path/filepath"
	"testing"

	gittransport "github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
)

func TestSSH(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "r.git")
	gittest.Bare(t, dir, true)
	client := gittest.NewKey(t)
	srv := gittest.StartSSH(t, base, client)
	pin := ssh.FingerprintSHA256(srv.HostKey)
	url := "ssh://git@" + srv.Addr + "/r.git"

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
		{"an unknown client key", url, Auth{SSHKey: gittest.NewKey(t), SSHInsecure: true}, gittransport.ErrAuthenticationRequired},
		{"no repository", "ssh://git@" + srv.Addr + "/nosuch.git", Auth{SSHKey: client, SSHInsecure: true}, gittransport.ErrRepositoryNotFound},
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
