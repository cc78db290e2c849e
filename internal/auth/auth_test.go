package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func hash(t testing.TB, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestParseHtpasswd(t *testing.T) {
	good := hash(t, "secret")
	tests := []struct {
		name  string
		file  string
		users int
		err   string
	}{
		{"bcrypt", "alice:" + good + "\n", 1, ""},
		{"$2b$ and $2a$", "a:" + strings.Replace(good, "$2a$", "$2b$", 1) + "\nb:" + good + "\n", 2, ""},
		{"comments and blanks", "# users\n\nalice:" + good + "\r\n  \n", 1, ""},
		{"no final newline", "alice:" + good, 1, ""},
		{"empty", "", 0, ""},
		{"md5", "alice:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n", 0, "line 1: user \"alice\": not a bcrypt hash"},
		{"sha1", "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", 0, "not a bcrypt hash"},
		{"plain", "# x\nalice:secret\n", 0, "line 2"},
		{"no colon", "alice\n", 0, "want user:hash"},
		{"twice", "a:" + good + "\na:" + good + "\n", 0, "appears twice"},
		{"empty user", ":" + good + "\n", 0, "user name"},
		{"bidi in the user", "ali\u202ece:" + good + "\n", 0, "user name"},
		{"escape in the user", "a\x1b[31m:" + good + "\n", 0, "user name"},
		{"angle brackets in the user", "<a>:" + good + "\n", 0, "user name"},
		{"bad bcrypt", "alice:$2y$10$short\n", 0, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := ParseHtpasswd([]byte(tt.file))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrBadFile) {
					t.Fatalf("error %v, want ErrBadFile with %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "$") || strings.Contains(err.Error(), "secret") {
					t.Fatalf("error %q shows the hash or password", err)
				}
				return
			}
			if err != nil || len(users) != tt.users {
				t.Fatalf("%d users, %v; want %d", len(users), err, tt.users)
			}
		})
	}
}

// writeFile writes content to path through a rename, as editors and
// htpasswd do.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestFileVerifyAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	writeFile(t, path, "alice:"+hash(t, "one")+"\n")
	f, err := OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := f.checked
	f.now = func() time.Time { return now }
	ctx := context.Background()
	check := func(user, password string, want bool) {
		t.Helper()
		for range 2 { // the second answer may come from the cache
			if ok, err := f.Verify(ctx, user, password); ok != want || err != nil {
				t.Fatalf("Verify(%s, %s) = %v, %v; want %v", user, password, ok, err, want)
			}
		}
	}
	check("alice", "one", true)
	check("alice", "two", false)
	check("bob", "one", false)

	// A change is seen after a second.
	writeFile(t, path, "alice:"+hash(t, "two")+"\nbob:"+hash(t, "three")+"\n")
	now = now.Add(2 * time.Second)
	check("alice", "one", false)
	check("alice", "two", true)
	check("bob", "three", true)

	// A change that does not parse leaves the users in force.
	writeFile(t, path, "alice:two\n")
	now = now.Add(2 * time.Second)
	check("alice", "two", true)
	if f.Len() != 2 {
		t.Fatalf("%d users, want 2", f.Len())
	}
	// Neither does a removed file.
	os.Remove(path)
	now = now.Add(2 * time.Second)
	check("bob", "three", true)
	// Put back, it is read.
	writeFile(t, path, "carol:"+hash(t, "four")+"\n")
	now = now.Add(2 * time.Second)
	check("carol", "four", true)
	check("bob", "three", false)
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenFile(filepath.Join(dir, "none"), nil); err == nil {
		t.Fatal("a missing file opened")
	}
	bad := filepath.Join(dir, "bad")
	writeFile(t, bad, "alice:plain\n")
	if _, err := OpenFile(bad, nil); !errors.Is(err, ErrBadFile) {
		t.Fatalf("error %v, want ErrBadFile", err)
	}
}

// users is a Verifier of fixed passwords.
type users map[string]string

func (u users) Verify(ctx context.Context, user, password string) (bool, error) {
	p, ok := u[user]
	return ok && p == password, nil
}

func TestBasic(t *testing.T) {
	failures := 0
	b := &Basic{
		Users:     users{"alice": "secret"},
		Required:  func(r *http.Request) bool { return r.Method == http.MethodPost },
		OnFailure: func(*http.Request) { failures++ },
	}
	var seen string
	var had bool
	h := b.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, had = User(r.Context())
	}))
	tests := []struct {
		name, method, user, password string
		auth                         bool
		code                         int
		wantUser                     string
	}{
		{"open read", "GET", "", "", false, 200, ""},
		{"open read with credentials", "GET", "alice", "secret", true, 200, ""},
		{"no credentials", "POST", "", "", false, 401, ""},
		{"wrong password", "POST", "alice", "nope", true, 401, ""},
		{"unknown user", "POST", "mallory", "secret", true, 401, ""},
		{"right", "POST", "alice", "secret", true, 200, "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen, had = "", false
			r := httptest.NewRequest(tt.method, "/", nil)
			if tt.auth {
				r.SetBasicAuth(tt.user, tt.password)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d", w.Code, tt.code)
			}
			if tt.code == 401 && w.Header().Get("WWW-Authenticate") != `Basic realm="pasteur", charset="UTF-8"` {
				t.Fatalf("WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
			}
			if seen != tt.wantUser || had != (tt.wantUser != "") {
				t.Fatalf("user %q (%v), want %q", seen, had, tt.wantUser)
			}
		})
	}
	if failures != 3 {
		t.Fatalf("%d failures counted, want 3", failures)
	}
}

// FuzzParseHtpasswd reads htpasswd files: no panic, and every user it
// accepts is a valid name with a bcrypt hash.
func FuzzParseHtpasswd(f *testing.F) {
	f.Add([]byte("alice:" + hash(f, "x") + "\n# c\n\nbob:" + hash(f, "y")))
	f.Add([]byte("a:$2y$04$\n"))
	f.Add([]byte(":\n:::\n\x00:$2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		users, err := ParseHtpasswd(b)
		if err != nil {
			return
		}
		for u, h := range users {
			if !validUser(u) {
				t.Fatalf("user %q accepted", u)
			}
			if _, err := bcrypt.Cost(h); err != nil {
				t.Fatalf("hash %q accepted: %v", h, err)
			}
		}
	})
}

func TestBasicThrottle(t *testing.T) {
	blocked := false
	checked := 0
	b := &Basic{
		Users:    verifierFunc(func(user, password string) bool { checked++; return password == "right" }),
		Throttle: func(*http.Request) (time.Duration, bool) { return 1500 * time.Millisecond, blocked },
	}
	h := b.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	do := func(password string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/", nil)
		r.SetBasicAuth("alice", password)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := do("wrong"); w.Code != 401 {
		t.Fatalf("not throttled: %d", w.Code)
	}
	blocked = true
	if w := do("right"); w.Code != 429 || w.Header().Get("Retry-After") != "2" || checked != 1 {
		t.Fatalf("throttled: %d, Retry-After %q, %d passwords checked; want 429, 2, 1", w.Code, w.Header().Get("Retry-After"), checked)
	}
}

// verifierFunc is a Verifier of a function.
type verifierFunc func(user, password string) bool

func (f verifierFunc) Verify(_ context.Context, user, password string) (bool, error) {
	return f(user, password), nil
}
