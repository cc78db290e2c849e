package pastetest

import (
	"net/http/httptest"
	"testing"

	"github.com/pasteur-dev/pasteur/internal/testlog"
	"github.com/pasteur-dev/pasteur/paste/web"
)

// NewServer serves a web.Handler over a new Store on loopback until the
// test ends. The handler logs to the test's output.
func NewServer(t testing.TB) (*httptest.Server, *Store) {
	t.Helper()
	st := &Store{}
	h, err := web.NewHandler(web.Config{Store: st, Logger: testlog.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, st
}
