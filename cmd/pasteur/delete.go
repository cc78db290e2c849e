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
	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
)

const deleteUsage = `Usage: pasteur delete [flags] URL
       pasteur delete --data DIR [--remote URL] ID...

Deletes a paste. The first form asks the server, with the delete token
that pasteur put printed (or the page kept): --token, or one line on
standard input. The second is for the operator, without a token: it
removes the pastes ID... from the repository in DIR (stop the server that
uses DIR first, or give another DIR, "" for none, with the --remote to
push the removal to; the running servers see it at their next fetch).

Flags (-name and --name both work):
`

// runDelete is pasteur delete.
func runDelete(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("delete", deleteUsage, stdout)
	var cf clientFlags
	cf.add(fs, "")
	token := fs.String("token", "", "the paste's delete `token` (default: one line read from standard input)")
	data := fs.String("data", "\x00", "operator: the `directory` of the repository to remove the pastes from (\"\" with --remote: none)")
	remote := fs.String("remote", "", "operator: the Git `URL` to push the removal to (see pasteur --help for the credentials' flags)")
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
		return operatorDelete(ctx, *data, *remote, git.auth, pos, stdout, stderr)
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

// operatorDelete removes pastes ids from the repository in dir, pushing
// to remote when set.
func operatorDelete(ctx context.Context, dir, remote string, auth gitsync.Auth, ids []string, stdout, stderr io.Writer) int {
	store, err := gitsync.Open(ctx, gitsync.Config{
		Dir: dir, Remote: remote, Dial: (&netx.Host{}).Dial, Auth: auth,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		fmt.Fprintf(stderr, "pasteur delete: %v\n", inUseHint(err))
		return exitRuntime
	}
	defer store.Close()
	status := exitOK
	for _, id := range ids {
		if err := store.Remove(ctx, id, paste.Deleted); err != nil {
			fmt.Fprintf(stderr, "pasteur delete: %s: %v\n", id, err)
			status = exitRuntime
			continue
		}
		fmt.Fprintf(stdout, "removed %s\n", id)
	}
	if st := store.Status(); st.Unpushed {
		fmt.Fprintf(stderr, "pasteur delete: the removal is committed in %s but not pushed to %s yet: %s\n", dir, remote, st.LastError)
		status = exitRuntime
	}
	return status
}
