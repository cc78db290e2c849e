package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/paste/pastetest"
)

// runCmd runs pasteur's subcommand args[0] with stdin and returns its exit
// status and outputs.
func runCmd(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := dispatch(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestPutGet(t *testing.T) {
	srv, st := pastetest.NewServer(t)
	dir := t.TempDir()
	text := "package main\r\n\nfunc main() {\n\tprintln(\"🦀 ü\")\n}\n"
	file := filepath.Join(dir, "main.go")
	os.WriteFile(file, []byte(text), 0o644)
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("s3cret pässword\n"), 0o600)
	wrongPw := filepath.Join(dir, "wrong")
	os.WriteFile(wrongPw, []byte("wrong\r\n"), 0o600)

	tests := []struct {
		name    string
		stdin   string
		put     []string
		get     []string // flags of get, before the URL
		wantURL string   // in the URL
		encrypt bool
	}{
		{"file, language from its extension", "", []string{file, "--server", srv.URL}, nil, "?hl=go", false},
		{"flags after FILE, explicit language", "", []string{"--ln", file, "--hl", "text", "--server", srv.URL}, nil, "?hl=plaintext&ln=true", false},
		{"stdin, encrypted", text, []string{"-e", "--server", srv.URL, "-"}, nil, "#", true},
		{"stdin by default", text, []string{"--encrypt", "--server", srv.URL, "--user", "ann", "--comment", "via the CLI"}, nil, "#", true},
		{"password", "", []string{"--password-file", pwFile, "--server", srv.URL, file}, []string{"--password-file", pwFile}, "?hl=go#", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(tt.stdin, append([]string{"put"}, tt.put...)...)
			u := strings.TrimSpace(out)
			if code != exitOK || !strings.HasPrefix(u, srv.URL+"/") || !strings.Contains(u, tt.wantURL) || strings.Count(out, "\n") != 1 {
				t.Fatalf("put: exit %d, out %q, err %q", code, out, errs)
			}
			code, got, errs := runCmd("", append(append([]string{"get"}, tt.get...), u)...)
			if code != exitOK || got != text {
				t.Fatalf("get: exit %d, out %q, err %q", code, got, errs)
			}
			if tt.encrypt {
				for _, p := range st.Pastes() {
					if bytes.Contains(p.Contents, []byte("println")) && p.Encrypted {
						t.Fatal("an encrypted paste was stored in clear")
					}
				}
			}
		})
	}
	var found bool
	for _, p := range st.Pastes() {
		found = found || p.User == "ann" && p.Comment == "via the CLI"
	}
	if !found {
		t.Error("--user and --comment were not stored")
	}

	// Failures say what to do.
	code, out, _ := runCmd("", "put", "--password-file", pwFile, "--server", srv.URL, file)
	u := strings.TrimSpace(out)
	if code != exitOK {
		t.Fatal("put failed")
	}
	base, _, _ := strings.Cut(u, "#")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"get", base}, "part after #"},
		{[]string{"get", "--password-file", wrongPw, u}, "wrong key or password"},
		{[]string{"get", "--password-file", filepath.Join(dir, "nosuch"), u}, "nosuch"},
		{[]string{"get", srv.URL + "/nosuchpaste"}, "no such paste"},
		{[]string{"put", "--server", srv.URL, filepath.Join(dir, "nosuch.txt")}, "nosuch.txt"},
		{[]string{"put", "--server", srv.URL}, "nothing to paste"},
		{[]string{"put", "--server", "127.0.0.1:1"}, "want a server like"},
	} {
		code, _, errs := runCmd("", tt.args...)
		if code != exitRuntime || !strings.Contains(errs, tt.want) || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "pasteur "+tt.args[0]+": ") {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, code, errs, exitRuntime, tt.want)
		}
	}
}

func TestPutServerFromEnvironment(t *testing.T) {
	srv, _ := pastetest.NewServer(t)
	t.Setenv("PASTEUR_SERVER", srv.URL)
	code, out, errs := runCmd("hello", "put")
	if code != exitOK || !strings.HasPrefix(out, srv.URL+"/") {
		t.Fatalf("exit %d, %q %q", code, out, errs)
	}
}

func TestClientUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string // in stderr, or stdout for --help
	}{
		{[]string{"put", "a", "b"}, exitUsage, "one FILE at most"},
		{[]string{"put", "--nosuch"}, exitUsage, "nosuch"},
		{[]string{"get"}, exitUsage, "want one URL"},
		{[]string{"get", "a", "b"}, exitUsage, "want one URL"},
		{[]string{"get", "--password", "u"}, exitUsage, "password"}, // get asks by itself
		{[]string{"put", "--help"}, exitOK, "Usage: pasteur put"},
		{[]string{"get", "-h"}, exitOK, "Usage: pasteur get"},
	} {
		code, out, errs := runCmd("", tt.args...)
		if code != tt.code || !strings.Contains(out+errs, tt.want) {
			t.Errorf("%q: exit %d, out %q, err %q; want %d and %q", tt.args, code, out, errs, tt.code, tt.want)
		}
	}
	// Without a subcommand the words are the server's flags.
	if code, _, errs := runCmd("", "serve"); code != exitUsage || !strings.Contains(errs, "unexpected argument") {
		t.Errorf("pasteur serve: exit %d, %q", code, errs)
	}
}

func TestParseArgs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		pos  string
		ln   bool
	}{
		{[]string{"a", "--ln"}, "a", true},
		{[]string{"--ln", "a"}, "a", true},
		{[]string{"a", "b"}, "a b", false},
		{[]string{"--", "--ln"}, "--ln", false},
		{[]string{"a", "--", "-x"}, "a -x", false},
		{[]string{"-"}, "-", false},
	} {
		fs := newFlagSet("t", "", &bytes.Buffer{})
		ln := fs.Bool("ln", false, "")
		pos, err := parseArgs(fs, tt.args)
		if err != nil || strings.Join(pos, " ") != tt.pos || *ln != tt.ln {
			t.Errorf("%q: %q %v %v", tt.args, pos, *ln, err)
		}
	}
}
