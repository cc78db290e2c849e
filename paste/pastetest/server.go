package pastetest

import (
	"net/http/httptest"
	"testing"

	"github.com/pasteur-dev/pasteur/paste"
)

// NewServer serves a paste.Handler over a new Store on loopback until the
// test ends.
func NewServer(t testing.TB) (*httptest.Server, *Store) {
	t.Helper()
	st := &Store{}
	h, err := paste.NewHandler(paste.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, st
}
