package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/pasteur-dev/pasteur/client"
	"github.com/pasteur-dev/pasteur/seal"
)

const getUsage = `Usage: pasteur get [flags] URL

Prints the paste at URL, exactly as it was pasted. An encrypted paste is
decrypted here with the key in the URL's fragment (#KEY), so quote the URL:
pasteur get 'http://HOST:4343/ID#KEY'.

Flags (-name and --name both work):
`

// runGet is pasteur get.
func runGet(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("get", getUsage, stdout)
	var cf clientFlags
	cf.add(fs, "") // a paste with a password asks for it on the terminal
	pos, err := parseArgs(fs, args)
	if err == nil && len(pos) != 1 {
		err = fmt.Errorf("want one URL, got %d arguments", len(pos))
	}
	if err != nil {
		return usageError("get", err, stderr)
	}
	ctx, stop := commandContext()
	defer stop()
	c := &client.Client{HTTP: cf.httpClient()}
	if c.Auth, err = credentials(pos[0], ""); err != nil {
		fmt.Fprintf(stderr, "pasteur get: %v\n", err)
		return exitRuntime
	}
	p, err := c.Get(ctx, pos[0], client.GetOptions{Password: func() (string, error) { return cf.password(false) }})
	if err != nil {
		if needsUser(err) {
			err = authHint(err, c.Auth != nil)
		}
		fmt.Fprintf(stderr, "pasteur get: %v\n", explain(err))
		return exitRuntime
	}
	if _, err := stdout.Write(p.Text); err != nil {
		fmt.Fprintf(stderr, "pasteur get: %v\n", err)
		return exitRuntime
	}
	return exitOK
}

// explain adds what to do to the errors a user can act on.
func explain(err error) error {
	switch {
	case errors.Is(err, client.ErrNoKey):
		return fmt.Errorf("%w: give the whole link, with the part after #", err)
	case errors.Is(err, seal.ErrPasswordRequired):
		return fmt.Errorf("%w: run it on a terminal, or give --password-file FILE", err)
	case errors.Is(err, seal.ErrDecrypt):
		return fmt.Errorf("%w: check the link (all of it, with the part after #) and the password", err)
	}
	return err
}
