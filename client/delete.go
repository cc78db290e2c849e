package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/pasteur-dev/pasteur/paste"
)

// Delete deletes the paste at pasteURL with its delete token (which
// PutPaste returned). It fails with ErrNotFound for an unknown paste,
// ErrGone for one already removed, and a *ServerError with status 403 for
// a wrong token.
func (c *Client) Delete(ctx context.Context, pasteURL, token string) error {
	loc, err := ParseURL(pasteURL)
	if err != nil {
		return err
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \r\n") {
		return fmt.Errorf("delete %s: a delete token is one word", loc.ID)
	}
	req, err := http.NewRequestWithContext(ctx, "DELETE", loc.Server.JoinPath(loc.ID).String(), nil)
	if err != nil {
		return err
	}
	// The token in a header of its own when Authorization carries the
	// user's credentials (do), as a Bearer otherwise.
	if c.Auth != nil {
		req.Header.Set(paste.DeleteTokenHeader, token)
	} else {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if err := c.do(req, nil); err != nil {
		return fmt.Errorf("delete %s: %w", loc.ID, err)
	}
	return nil
}
