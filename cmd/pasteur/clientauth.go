package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pasteur-dev/pasteur/client"
)

// credentials finds the user and password for server, for a server run
// with --auth: $PASTEUR_AUTH (USER:PASSWORD), else the entry for the
// server's host in $NETRC or ~/.netrc (with login user, when user is not
// empty). Nil when there are none.
func credentials(server, user string) (*client.Credentials, error) {
	if v := os.Getenv("PASTEUR_AUTH"); v != "" {
		u, p, ok := strings.Cut(v, ":")
		if !ok || u == "" {
			return nil, errors.New("$PASTEUR_AUTH: want USER:PASSWORD")
		}
		return &client.Credentials{User: u, Password: p}, nil
	}
	su, err := url.Parse(server)
	if err != nil {
		return nil, nil // the client reports the bad URL
	}
	path := os.Getenv("NETRC")
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil
		}
		path = filepath.Join(home, ".netrc")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil
	}
	if c, ok := client.ParseNetrc(b, su.Hostname(), user); ok {
		return &c, nil
	}
	return nil, nil
}

// needsUser reports whether err is the server asking for a user (401).
func needsUser(err error) bool {
	var se *client.ServerError
	return errors.As(err, &se) && se.Status == http.StatusUnauthorized
}

// authHint is what to say when the server wants a user and has none, or
// refused the one given.
func authHint(err error, tried bool) error {
	if tried {
		return fmt.Errorf("%w\n(the user name or password is wrong)", err)
	}
	return fmt.Errorf("%w\n(give --user NAME to be asked for the password, or set PASTEUR_AUTH=USER:PASSWORD, or add the server to ~/.netrc)", err)
}
