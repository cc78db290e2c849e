package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/paste"
)

// serveUsage heads pasteur --help.
const serveUsage = `Usage: pasteur [flags]               serve
       pasteur put [flags] [FILE|-]  paste a file, print its URL (put --help)
       pasteur get [flags] URL       print a paste (get --help)
       pasteur delete URL            delete a paste, its token on stdin (delete --help)
       pasteur keygen [flags]        make the ssh key for an ssh --remote
       pasteur migrate --data DIR    move the original's root pastes to ID[0]/ID[1]/ID

A pastebin that saves every paste into a Git repository.

Server flags (-name and --name both work):
`

// serveConfig is the server's command line.
type serveConfig struct {
	tap         string
	offload     bool
	debug       string
	net         tapNetConfig // the TAP stack's addresses
	remote      string
	shards      int
	preferShard int
	port        int
	bind        string
	data        string
	ack         gitsync.Ack // --ack
	length      int
	maxSize     int64
	cache       int64
	logLevel    slog.Level
	life        lifeConfig
	https       httpsConfig
	git         remoteConfig // credentials of the remote
	compat      compatConfig // the original's flags (compatflags.go)
	limits      limitsConfig // who may do how much; metrics
}

// parseServeFlags reads the server's flags. Both -name and --name work.
// --help prints the usage to help and returns flag.ErrHelp.
func parseServeFlags(args []string, help io.Writer) (*serveConfig, error) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("pasteur", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var level string
	fs.StringVar(&c.tap, "tap", "", "run on a userspace TCP/IP stack over this TAP `device` (e.g. tap100) instead of the host's sockets; needs --ipv4, --ipv6, --dhcp or --accept-router-advertisements")
	fs.BoolVar(&c.offload, "tap-offload", true, "open the TAP device with checksum and TCP segmentation offloads (IFF_VNET_HDR); false for plain frames")
	c.net.addFlags(fs)
	for _, n := range []string{"r", "remote"} {
		fs.StringVar(&c.remote, n, "", "Git `URL` to push every paste to and fetch from: git://host/repo, ssh://git@host/repo or git@host:repo (see --ssh-*), https://host/repo (see --remote-token-file); none by default")
	}
	fs.IntVar(&c.shards, "shards", 1, "spread pastes over this `number` of Git repositories, named by --remote with {shard} replaced by 0, 1, ... (shard 0 keeps --data, the others DATA/shard-N)")
	fs.IntVar(&c.preferShard, "prefer-shard", -1, "with --shards, make new pastes in this `shard` while its remote is reachable (give each server that shares the shards its own); -1 takes the shards in turn")
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&c.port, n, 4343, "TCP port of the web server")
	}
	fs.StringVar(&c.bind, "bind", "127.0.0.1", "address to listen on without --tap (0.0.0.0 for every address)")
	fs.StringVar(&c.data, "data", "pasteur-data", "`directory` of the local Git repository, created if missing; \"\" keeps it in memory only (needs --remote)")
	ack := fs.String("ack", "push", "with --remote, when a paste is answered: push (once on the remote, or committed and queued when the remote does not take it in time) or disk (once in --data's write-ahead log, fdatasynced; committed and pushed behind it: another server reads it once pushed)")
	fs.IntVar(&c.length, "length", paste.DefaultIDLength, "length of new paste ids")
	fs.Int64Var(&c.maxSize, "max-size", paste.DefaultMaxSize, "largest paste accepted, in `bytes`")
	fs.Int64Var(&c.cache, "cache", 64<<20, "`bytes` of recently read pastes kept in memory (0 turns the cache off)")
	c.life.addFlags(fs)
	c.https.addFlags(fs)
	c.git.addFlags(fs)
	c.compat.addFlags(fs, &c.https.hostname)
	c.limits.addFlags(fs)
	fs.StringVar(&c.debug, "debug-addr", "", "serve profiles and counters on this loopback `address` (e.g. 127.0.0.1:6060), for benchmarks; a heap profile needs GODEBUG=memprofilerate=524288")
	fs.StringVar(&level, "log-level", "info", "log level: debug, info, warn or error")
	err := fs.Parse(args)
	if helpAsked(args) {
		err = flag.ErrHelp
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(help, serveUsage)
		fs.SetOutput(help)
		fs.PrintDefaults()
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("%v (see --help)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if err := c.net.check(c.tap); err != nil {
		return nil, err
	}
	if err := c.logLevel.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	switch {
	case c.port < 1 || c.port > 65535:
		return nil, fmt.Errorf("--port %d: want 1..65535", c.port)
	case c.length < 1 || c.length > paste.MaxIDLength:
		return nil, fmt.Errorf("--length %d: want 1..%d", c.length, paste.MaxIDLength)
	case paste.IDBits(c.length) < 32:
		return nil, fmt.Errorf("--length %d gives %.0f bits per id, guessable; want at least 7", c.length, paste.IDBits(c.length))
	case c.cache < 0:
		return nil, fmt.Errorf("--cache %d: want 0 or more bytes", c.cache)
	case c.maxSize < 1:
		return nil, fmt.Errorf("--max-size %d: want a positive number of bytes", c.maxSize)
	case c.data == "" && c.remote == "":
		return nil, errors.New(`--data "" keeps pastes in memory only: give a --remote to push them to`)
	case *ack != "push" && *ack != "disk":
		return nil, fmt.Errorf("--ack %q: want push or disk", *ack)
	case *ack == "disk" && c.data == "":
		return nil, errors.New(`--ack disk answers once a paste is in the write-ahead log of --data: with --data "" there is none; give a --data directory or --ack push`)
	case strings.TrimSpace(c.bind) == "":
		return nil, errors.New("--bind is empty")
	}
	if *ack == "disk" {
		c.ack = gitsync.AckDisk
	}
	if err := c.life.check(); err != nil {
		return nil, err
	}
	portSet := false
	fs.Visit(func(f *flag.Flag) { portSet = portSet || f.Name == "p" || f.Name == "port" })
	if err := checkShards(c.remote, c.shards, c.preferShard); err != nil {
		return nil, err
	}
	// The credentials are checked against shard 0's URL: the shards
	// differ by name only.
	remote := shardRemote(c.remote, 0)
	if err := c.git.check(&remote); err != nil {
		return nil, err
	}
	if c.shards == 1 {
		c.remote = remote // without a password, once check moved it
	} else if remote != shardRemote(c.remote, 0) {
		return nil, errors.New("--remote: with --shards, give the https password with --remote-token-file, not in the URL")
	}
	if err := c.https.check(c, portSet); err != nil {
		return nil, err
	}
	if err := c.limits.check(c.data); err != nil {
		return nil, err
	}
	return c, nil
}
