package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pasteur-dev/pasteur/client"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/shard"
)

const deleteUsage = `Usage: pasteur delete [flags] URL
       pasteur delete --data DIR [--remote URL] [--shards N] ID...

Deletes a paste. The first form asks the server, with the delete token
that pasteur put printed (or the page kept), one line on standard input
(echo TOKEN | pasteur delete URL, or type it), or --token, which other
users of the machine can read in the process list. The second is for the operator, without a token: it
removes the pastes ID... from the repository in DIR (stop the server that
uses DIR first, or give another DIR, "" for none, with the --remote to
push the removal to; the running servers see it at their next fetch).
With a server's --shards N, give the same --shards (and its --remote
with {shard}): each id is removed from its shard.

Flags (-name and --name both work):
`

// runDelete is pasteur delete.
func runDelete(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("delete", deleteUsage, stdout)
	var cf clientFlags
	cf.add(fs, "")
	token := fs.String("token", "", "the paste's delete `token` (default: one line read from standard input; prefer that: a command line is in the process list, which other users of the machine read)")
	data := fs.String("data", "\x00", "operator: the `directory` of the repository to remove the pastes from (\"\" with --remote: none)")
	remote := fs.String("remote", "", "operator: the Git `URL` to push the removal to (see pasteur --help for the credentials' flags); with --shards, {shard} names the shard")
	shards := fs.Int("shards", 1, "operator: the server's `number` of shards (shard 0 in --data, the others in DATA/shard-N)")
	var git remoteConfig
	git.addFlags(fs)
	pos, err := parseArgs(fs, args)
	operator := *data != "\x00"
	switch {
	case err != nil:
	case operator && len(pos) == 0:
		err = errors.New("name the ids of the pastes to remove")
	case operator && *data == "" && *remote == "":
		err = errors.New(`--data "" needs a --remote`)
	case !operator && len(pos) != 1:
		err = fmt.Errorf("want one URL, got %d arguments", len(pos))
	case !operator && *remote != "":
		err = errors.New("--remote is for the operator's form, with --data")
	case !operator && *shards != 1:
		err = errors.New("--shards is for the operator's form, with --data")
	case *remote != "":
		err = checkShards(*remote, *shards, -1)
	case *shards < 1 || *shards > shard.MaxShards:
		err = fmt.Errorf("--shards %d: want 1..%d", *shards, shard.MaxShards)
	}
	if err == nil && operator {
		err = git.check(remote)
	}
	if err != nil {
		return usageError("delete", err, stderr)
	}
	ctx, stop := commandContext()
	defer stop()
	if operator {
		cfg := &serveConfig{data: *data, remote: *remote, shards: *shards, preferShard: -1, git: git}
		return operatorDelete(ctx, cfg, pos, stdout, stderr)
	}
	if *token == "" {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(stderr, "pasteur delete: no --token, and none on standard input")
			return exitUsage
		}
		*token = strings.TrimSpace(line)
	}
	c := &client.Client{HTTP: cf.httpClient()}
	if c.Auth, err = credentials(pos[0], ""); err != nil {
		fmt.Fprintf(stderr, "pasteur delete: %v\n", err)
		return exitRuntime
	}
	if err := c.Delete(ctx, pos[0], *token); err != nil {
		var se *client.ServerError
		switch {
		case needsUser(err):
			err = authHint(err, c.Auth != nil)
		case errors.As(err, &se) && se.Status == 403:
			err = fmt.Errorf("%w: check the token that pasteur put printed", err)
		}
		fmt.Fprintf(stderr, "pasteur delete: %v\n", err)
		return exitRuntime
	}
	fmt.Fprintf(stdout, "deleted %s\n", pos[0])
	return exitOK
}

// operatorDelete removes pastes ids from the repositories of cfg (its
// data, remote, shards and credentials), each from its shard as a server
// with cfg's shards finds it, pushing to the remotes when set.
func operatorDelete(ctx context.Context, cfg *serveConfig, ids []string, stdout, stderr io.Writer) int {
	if err := checkShardDirs(cfg.data, cfg.shards); err != nil {
		fmt.Fprintf(stderr, "pasteur delete: %v\n", err)
		return exitRuntime
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stores, err := openStores(ctx, cfg, &netx.Host{}, log, nil)
	if err != nil {
		fmt.Fprintf(stderr, "pasteur delete: %v\n", err)
		return exitRuntime
	}
	defer stores.Close()
	status := exitOK
	for _, id := range ids {
		if err := stores.pastes.Remove(ctx, id, paste.Deleted); err != nil {
			fmt.Fprintf(stderr, "pasteur delete: %s: %v\n", id, err)
			status = exitRuntime
			continue
		}
		fmt.Fprintf(stdout, "removed %s\n", id)
	}
	for i, st := range stores.shards {
		if st := st.Status(); st.Unpushed {
			fmt.Fprintf(stderr, "pasteur delete: the removal is committed in %s but not pushed to %s yet: %s\n",
				shardDir(cfg.data, i), shardRemote(cfg.remote, i), st.LastError)
			status = exitRuntime
		}
	}
	return status
}
