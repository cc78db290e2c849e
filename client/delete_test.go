package client

import (
	"context"
	"errors"
	"testing"

	"github.com/pasteur-dev/pasteur/paste/pastetest"
)

// TestDeleteAndBurn: the token PutPaste returns deletes the paste; a
// wrong one is refused; a burn paste is read once.
func TestDeleteAndBurn(t *testing.T) {
	srv, _ := pastetest.NewServer(t)
	ctx := context.Background()
	c := &Client{}
	p, err := c.PutPaste(ctx, srv.URL, []byte("x"), PutOptions{Expire: "1d"})
	if err != nil || p.DeleteToken == "" || p.Expires == nil || p.Burn {
		t.Fatalf("put: %+v, %v", p, err)
	}
	var se *ServerError
	if err := c.Delete(ctx, p.URL, "wrong"); !errors.As(err, &se) || se.Status != 403 {
		t.Errorf("delete with a wrong token: %v", err)
	}
	if err := c.Delete(ctx, p.URL, p.DeleteToken); err != nil {
		t.Errorf("delete: %v", err)
	}
	if _, err := c.Get(ctx, p.URL, GetOptions{}); !errors.Is(err, ErrGone) {
		t.Errorf("get after delete: %v, want ErrGone", err)
	}
	if err := c.Delete(ctx, p.URL, p.DeleteToken); !errors.Is(err, ErrGone) {
		t.Errorf("second delete: %v, want ErrGone", err)
	}

	b, err := c.PutPaste(ctx, srv.URL, []byte("once"), PutOptions{Burn: true, Encrypt: true, Iterations: 100000})
	if err != nil || !b.Burn {
		t.Fatalf("put: %+v, %v", b, err)
	}
	if got, err := c.Get(ctx, b.URL, GetOptions{}); err != nil || string(got.Text) != "once" {
		t.Fatalf("get: %v, %v", got, err)
	}
	if _, err := c.Get(ctx, b.URL, GetOptions{}); !errors.Is(err, ErrGone) {
		t.Errorf("second get of a burn paste: %v, want ErrGone", err)
	}
}
