package gitsync

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/pasteur-dev/pasteur/gitsync/internal/transport"
	"github.com/pasteur-dev/pasteur/paste"
)

// Config describes a Store.
type Config struct {
	// Dir is the bare repository on disk, created when missing. "" keeps
	// the repository in memory only.
	Dir string

	// Remote is the repository to push pastes to and fetch them from:
	// git://host[:port]/path, ssh://[user@]host[:port]/path or the
	// scp-like user@host:path, https://[user[:password]@]host/path; ""
	// for none. A remote without the branch is given it by the first
	// paste.
	Remote string

	// Branch holds the pastes, here and on the remote; "" is "master".
	Branch string

	// Dial connects to the remote; required when Remote is set.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Auth holds the credentials and trust for ssh and https remotes.
	Auth Auth

	// MaxGroup bounds the pastes committed and pushed together; 0 is 256,
	// 1 commits and pushes each paste alone.
	MaxGroup int

	// Ack says when Create answers with a remote: AckPush (the default)
	// once the paste is pushed, or queued after AckTimeout; AckDisk once
	// it is in the write-ahead log on disk, committed and pushed behind
	// it (wal.go, behind.go). AckDisk needs Dir. Without a remote both
	// answer from the log.
	Ack Ack

	// AckTimeout bounds how long a paste waits for its answer: its push
	// ends by nine tenths of it after the paste arrived, else (with Dir
	// only) it is acknowledged as queued; a push of the queue gives way
	// to pastes that waited a quarter of it. 0 is 10 seconds.
	AckTimeout time.Duration

	// FetchInterval spaces the fetches that read misses make: a miss
	// within it of the last fetch waits for it to pass (or for a fetch
	// begun after the miss; two seconds at most, else the miss is a
	// miss), so that a paste another server acknowledged before is found.
	// 0 is one second; a negative interval lets every
	// miss fetch at once (tests).
	FetchInterval time.Duration

	// RetryMin and RetryMax bound the pause between pushes of the queue
	// while the remote is unreachable; the pause doubles from RetryMin at
	// each failure. 0 is one second and one minute.
	RetryMin, RetryMax time.Duration

	// MaxSize is the largest paste in bytes, as the website accepts them;
	// 0 is paste.DefaultMaxSize. It bounds what the remote may make
	// pasteur read: an object in a fetched pack larger than a paste of
	// MaxSize could become (six times it, plus 2 MiB) is refused, and so
	// is the pack; a stored paste larger than that is not served.
	MaxSize int64

	// SyncInterval spaces the fetches that bring other instances' pastes
	// and removals (and, after a purge, their rewritten history); 0 is 30
	// seconds, a negative interval turns them off.
	SyncInterval time.Duration

	// PurgeInterval spaces the purges that rewrite the branch without the
	// content of removed pastes (Store.Purge); 0 turns them off.
	PurgeInterval time.Duration

	// OnRemove, when set, is called with the ids of pastes that a fetch
	// found removed (by another instance, or on the remote), once the
	// local branch no longer holds them: a cache in front of the Store
	// forgets them. It must not call the Store back.
	OnRemove func(ids []string)

	// Logger receives what happens; nil discards it.
	Logger *slog.Logger

	completion completionSteps // tests: the steps of complete.go
	purgeSent  func()          // tests: called once a purge sent its history, before it carries over
}

// Ack is when Create answers with a remote (Config.Ack).
type Ack int

const (
	// AckPush: once the paste is on the remote, or, with Dir, committed
	// and queued when the remote does not take it within AckTimeout.
	AckPush Ack = iota
	// AckDisk: once the paste is in the write-ahead log in Dir,
	// fdatasynced; it is committed behind the log and pushed behind the
	// commit. Another server sharing the remote reads it once pushed.
	AckDisk
)

// String is the word the command line uses: push or disk.
func (a Ack) String() string {
	if a == AckDisk {
		return "disk"
	}
	return "push"
}

const (
	defaultMaxGroup   = 256
	defaultAckTimeout = 10 * time.Second
	defaultRetryMin   = time.Second
	defaultRetryMax   = time.Minute
	defaultSync       = 30 * time.Second
)

// The fields of Config that a ConfigError names.
const (
	FieldRemote      = "Remote"
	FieldBranch      = "Branch"
	FieldDial        = "Dial"
	FieldSSHKey      = "Auth.SSHKey"
	FieldSSHHostKeys = "Auth.SSHHostKeys"
	FieldToken       = "Auth.Token"
	FieldRootCAs     = "Auth.RootCAs"
	FieldAck         = "Ack"
)

// ConfigError is a Config that cannot work: the field at fault (one of the
// Field constants) and why.
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return "gitsync: " + e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Validate reports whether the branch, the remote's URL and the
// credentials for it can work together, as Open checks them (Open also
// wants Dial with a remote). The first problem found is a *ConfigError.
func (c *Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	branch := c.Branch
	if branch == "" {
		branch = "master"
	}
	if err := plumbing.NewBranchReferenceName(branch).Validate(); err != nil {
		return bad(FieldBranch, "%q: %w", branch, err)
	}
	switch {
	case c.Ack != AckPush && c.Ack != AckDisk:
		return bad(FieldAck, "%d is not an acknowledgement mode", int(c.Ack))
	case c.Ack == AckDisk && c.Dir == "":
		return bad(FieldAck, "answering once a paste is on disk needs a repository on disk (Dir) for its write-ahead log")
	}
	protocol := ""
	if c.Remote != "" {
		var err error
		if protocol, err = transport.Protocol(c.Remote); err != nil {
			return bad(FieldRemote, "%w", err)
		}
		switch protocol {
		case "git", "ssh", "http", "https":
		default:
			return bad(FieldRemote, "protocol %q is not supported: want git://, ssh:// or user@host:path, https://", protocol)
		}
	}
	a := &c.Auth
	ssh, https := protocol == "ssh", protocol == "https" || protocol == "http"
	switch {
	case !ssh && a.SSHKey != nil:
		return bad(FieldSSHKey, "an ssh key is for an ssh remote (ssh://user@host/path or user@host:path)")
	case !ssh && (len(a.SSHHostKeys) > 0 || a.SSHInsecure):
		return bad(FieldSSHHostKeys, "host keys are for an ssh remote (ssh://user@host/path or user@host:path)")
	case !https && a.Token != "":
		return bad(FieldToken, "a token is for an https remote")
	case !https && a.RootCAs != nil:
		return bad(FieldRootCAs, "certificate authorities are for an https remote")
	case ssh && a.SSHKey == nil:
		return bad(FieldSSHKey, "an ssh remote needs a key to sign in with")
	case ssh && len(a.SSHHostKeys) == 0 && !a.SSHInsecure:
		return bad(FieldSSHHostKeys, "an ssh remote needs its host key's SHA256 fingerprint (ssh-keyscan HOST | ssh-keygen -lf -), or to accept any host key")
	case len(a.SSHHostKeys) > 0 && a.SSHInsecure:
		return bad(FieldSSHHostKeys, "pinned host keys and accepting any host key contradict each other")
	case strings.ContainsAny(a.Token, "\r\n"):
		return bad(FieldToken, "a token is one line")
	}
	for _, fp := range a.SSHHostKeys {
		if !strings.HasPrefix(fp, "SHA256:") || len(fp) == len("SHA256:") {
			return bad(FieldSSHHostKeys, "%q: want SHA256:... as ssh-keygen -lf prints it", fp)
		}
	}
	return nil
}

// setDefaults fills the fields left zero.
func (c *Config) setDefaults() {
	if c.Branch == "" {
		c.Branch = "master"
	}
	if c.MaxGroup <= 0 {
		c.MaxGroup = defaultMaxGroup
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = defaultAckTimeout
	}
	switch {
	case c.FetchInterval == 0:
		c.FetchInterval = defaultFetchInterval
	case c.FetchInterval < 0:
		c.FetchInterval = 0
	}
	switch {
	case c.SyncInterval == 0:
		c.SyncInterval = defaultSync
	case c.SyncInterval < 0:
		c.SyncInterval = 0
	}
	if c.RetryMin <= 0 {
		c.RetryMin = defaultRetryMin
	}
	if c.RetryMax <= 0 {
		c.RetryMax = defaultRetryMax
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxSize <= 0 {
		c.MaxSize = paste.DefaultMaxSize
	}
}
