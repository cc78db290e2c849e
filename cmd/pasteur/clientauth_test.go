package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/internal/auth"
	"github.com/pasteur-dev/pasteur/internal/testlog"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
	"github.com/pasteur-dev/pasteur/paste/web"
)

// fixedUsers is an auth.Verifier of one user.
type fixedUsers struct{ user, password string }

func (f fixedUsers) Verify(_ context.Context, user, password string) (bool, error) {
	return user == f.user && password == f.password, nil
}

// authServer serves a website whose every request needs alice.
func authServer(t *testing.T) (*httptest.Server, *pastetest.Store) {
	st := &pastetest.Store{}
	h, err := web.NewHandler(web.Config{Store: st, Logger: testlog.New(t),
		User: func(r *http.Request) (string, bool) { return auth.User(r.Context()) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&auth.Basic{Users: fixedUsers{"alice", "s3cret"}}).Handler(h))
	t.Cleanup(srv.Close)
	return srv, st
}

func TestPutGetWithAuth(t *testing.T) {
	srv, st := authServer(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("NETRC", "")
	t.Setenv("PASTEUR_AUTH", "")

	// Without credentials: the hint says how to give them.
	code, _, errs := runCmd("text", "put", "--server", srv.URL)
	if code != exitRuntime || !strings.Contains(errs, "401") || !strings.Contains(errs, "PASTEUR_AUTH") {
		t.Fatalf("put without a user: exit %d, %q", code, errs)
	}
	// $PASTEUR_AUTH.
	t.Setenv("PASTEUR_AUTH", "alice:wrong")
	if code, _, errs := runCmd("text", "put", "--server", srv.URL); code != exitRuntime || !strings.Contains(errs, "wrong") {
		t.Fatalf("put with a wrong password: exit %d, %q", code, errs)
	}
	t.Setenv("PASTEUR_AUTH", "alice:s3cret")
	code, out, errs := runCmd("from the environment", "put", "--server", srv.URL, "--user", "mallory")
	if code != exitOK {
		t.Fatalf("put with $PASTEUR_AUTH: exit %d, %q", code, errs)
	}
	if code, got, errs := runCmd("", "get", strings.TrimSpace(out)); code != exitOK || got != "from the environment" {
		t.Fatalf("get with $PASTEUR_AUTH: exit %d, %q %q", code, got, errs)
	}
	// ~/.netrc, for the server's host.
	t.Setenv("PASTEUR_AUTH", "")
	os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine 127.0.0.1 login alice password s3cret\n"), 0o600)
	code, out, errs = runCmd("from netrc", "put", "--server", srv.URL)
	if code != exitOK {
		t.Fatalf("put with ~/.netrc: exit %d, %q", code, errs)
	}
	if code, got, _ := runCmd("", "get", strings.TrimSpace(out)); code != exitOK || got != "from netrc" {
		t.Fatalf("get with ~/.netrc: exit %d, %q", code, got)
	}
	for _, p := range st.Pastes() {
		if p.User != "alice" {
			t.Errorf("paste %s by %q, want the authenticated alice", p.ID, p.User)
		}
	}
}

// TestDeleteWithAuth: on a server whose every request needs a user
// (--auth-read), pasteur delete logs in as put does, and its token still
// reaches the server: both once wanted the Authorization header, and the
// token could not delete a paste there at all.
func TestDeleteWithAuth(t *testing.T) {
	srv, _ := authServer(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("NETRC", "")
	t.Setenv("PASTEUR_AUTH", "alice:s3cret")
	code, out, errs := runCmd("x", "put", "--server", srv.URL)
	m := regexp.MustCompile(`delete token: (\S+)`).FindStringSubmatch(errs)
	if code != exitOK || m == nil {
		t.Fatalf("put: exit %d, %q", code, errs)
	}
	u := strings.TrimSpace(out)
	if code, _, errs := runCmd("", "delete", u, "--token", "wrong"); code != exitRuntime || !strings.Contains(errs, "403") {
		t.Errorf("delete with a wrong token: exit %d, %q", code, errs)
	}
	if code, _, errs := runCmd("", "delete", u, "--token", m[1]); code != exitOK {
		t.Fatalf("delete: exit %d, %q", code, errs)
	}
	if code, _, errs := runCmd("", "get", u); code != exitRuntime || !strings.Contains(errs, "gone") {
		t.Errorf("get after delete: exit %d, %q", code, errs)
	}
	t.Setenv("PASTEUR_AUTH", "")
	if code, _, errs := runCmd("", "delete", u, "--token", m[1]); code != exitRuntime || !strings.Contains(errs, "PASTEUR_AUTH") {
		t.Errorf("delete without a user: exit %d, %q", code, errs)
	}
}

// TestAuthRequired: with --auth, creating pastes, the form and deleting
// need a user; reading does not, and that includes POST /ID, the button
// that reads a paste that burns (it once asked a reader for a password);
// with --auth-read everything but /healthz does.
func TestAuthRequired(t *testing.T) {
	for _, c := range []struct {
		method, path string
		write, all   bool
	}{
		{"GET", "/", true, true},
		{"POST", "/", true, true},
		{"GET", "/abcdefgh", false, true},
		{"HEAD", "/abcdefgh", false, true},
		{"POST", "/abcdefgh", false, true},
		{"DELETE", "/abcdefgh", true, true},
		{"GET", "/static/js/paste.js", false, true},
		{"GET", "/healthz", false, false},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		if got := authRequired(false)(r); got != c.write {
			t.Errorf("--auth: %s %s needs a user: %v, want %v", c.method, c.path, got, c.write)
		}
		if got := authRequired(true)(r); got != c.all {
			t.Errorf("--auth-read: %s %s needs a user: %v, want %v", c.method, c.path, got, c.all)
		}
	}
}
