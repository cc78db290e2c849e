package gitsync

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/pasteur-dev/pasteur/gitsync/internal/gittest"
	"github.com/pasteur-dev/pasteur/paste"
)

// TestThinPushes: pastes pushed one at a time go as thin packs (trees as
// deltas against the remote's) over git://, ssh and https, and every
// remote is whole after them: git fsck --strict passes, and a fresh git
// clone of it holds every paste. Seventy pastes under one prefix make its
// leaf split, so that pushes rewrite three levels of trees.
func TestThinPushes(t *testing.T) {
	d := gittest.StartDaemon(t)
	key := gittest.NewKey(t)
	sshd := gittest.StartSSH(t, d.Base, key)
	web, pool := gittest.StartHTTPS(t, d.Base, "t0ken")
	tests := []struct {
		name string
		url  func(repo string) string
		auth Auth
	}{
		{"git", func(repo string) string { return "git://" + d.Addr + "/" + repo }, Auth{}},
		{"ssh", func(repo string) string { return "ssh://git@" + sshd.Addr + "/" + repo },
			Auth{SSHKey: key, SSHHostKeys: []string{ssh.FingerprintSHA256(sshd.HostKey)}}},
		{"https", func(repo string) string { return web + "/" + repo }, Auth{Token: "t0ken", RootCAs: pool}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := "thin-" + tt.name + ".git"
			daemonURL, dir := d.NewRepo(t, repo, true)
			s := open(t, tt.url(repo), func(c *Config) { c.Auth = tt.auth; c.MaxGroup = 1 })
			var ids []string
			for i := range 70 {
				id := fmt.Sprintf("ab%011d", i*7919%100000000000)
				ids = append(ids, id)
				mustCreate(t, s, &paste.Paste{ID: id, Contents: []byte("thin " + id)})
			}
			gittest.Fsck(t, dir)
			clone := filepath.Join(t.TempDir(), "clone.git")
			gittest.Run(t, "", "clone", "--quiet", "--bare", daemonURL, clone)
			gittest.Git(t, clone, "fsck", "--strict")
			files := gittest.Git(t, clone, "ls-tree", "-r", "--name-only", "master")
			for _, id := range ids {
				if !strings.Contains(files, "/"+id+"\n") {
					t.Errorf("%s not in a clone of the remote", id)
				}
			}
		})
	}
}
