package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/pastetest"
)

// TestPutDelete: put prints the delete token on standard error, and
// delete takes it from --token or standard input.
func TestPutDelete(t *testing.T) {
	srv, _ := pastetest.NewServer(t)
	token := regexp.MustCompile(`delete token: (\S+)`)
	for _, how := range []string{"--token", "stdin"} {
		code, out, errs := runCmd("x", "put", "--server", srv.URL, "--expire", "1d", "--burn")
		m := token.FindStringSubmatch(errs)
		if code != exitOK || m == nil || strings.Contains(out, m[1]) {
			t.Fatalf("put: exit %d, out %q, err %q", code, out, errs)
		}
		u := strings.TrimSpace(out)
		args, stdin := []string{"delete", u}, m[1]+"\n"
		if how == "--token" {
			args, stdin = append(args, "--token", m[1]), ""
		}
		if code, out, errs := runCmd("", "delete", u, "--token", "wrong"); code != exitRuntime || !strings.Contains(errs, "403") {
			t.Errorf("delete with a wrong token: exit %d, %q %q", code, out, errs)
		}
		if code, out, errs := runCmd(stdin, args...); code != exitOK {
			t.Fatalf("delete (%s): exit %d, %q %q", how, code, out, errs)
		}
		if code, _, errs := runCmd("", "get", u); code != exitRuntime || !strings.Contains(errs, "gone") {
			t.Errorf("get after delete: exit %d, %q", code, errs)
		}
	}
}

// TestOperatorDelete: pasteur delete --data DIR removes pastes from a
// repository, with no token.
func TestOperatorDelete(t *testing.T) {
	dir := t.TempDir()
	s, err := gitsync.Open(t.Context(), gitsync.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"one", "two"} {
		if err := s.Create(t.Context(), &paste.Paste{ID: id, Contents: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if code, out, errs := runCmd("", "delete", "--data", dir, "one", "nosuch"); code != exitRuntime || out != "removed one\n" || !strings.Contains(errs, "nosuch") {
		t.Errorf("delete --data: exit %d, out %q, err %q", code, out, errs)
	}
	if code, _, errs := runCmd("", "delete", "--data", dir); code != exitUsage || !strings.Contains(errs, "ids") {
		t.Errorf("delete --data without ids: exit %d, %q", code, errs)
	}
}

// TestOperatorDeleteShards: with a server's --shards, pasteur delete
// --data removes each id from its shard, or from shard 0 when the id is
// from before the sharding; a --shards that does not match the shards in
// DIR is refused, with nothing removed.
func TestOperatorDeleteShards(t *testing.T) {
	const n = 3
	dir := t.TempDir()
	// ids by shard.Of with 3 shards: a and d in 0, b in 1, c in 2; "bold"
	// is a shard 1 id that shard 0 holds from before the sharding.
	held := map[int][]string{0: {"aaa", "ddd", "bold"}, 1: {"bbb"}, 2: {"ccc"}}
	for i := range n {
		s, err := gitsync.Open(t.Context(), gitsync.Config{Dir: shardDir(dir, i)})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range held[i] {
			if err := s.Create(t.Context(), &paste.Paste{ID: id, Contents: []byte(id)}); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
	for _, shards := range []string{"1", "2", "4"} {
		code, out, errs := runCmd("", "delete", "--data", dir, "--shards", shards, "bbb")
		if code != exitRuntime || out != "" || !strings.Contains(errs, "--shards") {
			t.Errorf("delete --shards %s of a DIR with 3: exit %d, out %q, err %q; want a refusal", shards, code, out, errs)
		}
	}
	code, out, errs := runCmd("", "delete", "--data", dir, "--shards", "3", "bbb", "ccc", "bold", "aaa")
	if code != exitOK || out != "removed bbb\nremoved ccc\nremoved bold\nremoved aaa\n" {
		t.Fatalf("delete --shards 3: exit %d, out %q, err %q", code, out, errs)
	}
	gone := map[string]bool{"bbb": true, "ccc": true, "bold": true, "aaa": true}
	for i := range n {
		s, err := gitsync.Open(t.Context(), gitsync.Config{Dir: shardDir(dir, i)})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range held[i] {
			_, err := s.Get(t.Context(), id)
			if gone[id] != (err != nil) {
				t.Errorf("shard %d, %s: Get: %v; removed: %v", i, id, err, gone[id])
			}
		}
		s.Close()
	}
	if code, _, errs := runCmd("", "delete", "--data", dir, "--shards", "3", "--remote", "git://127.0.0.1/x", "ddd"); code != exitUsage || !strings.Contains(errs, "{shard}") {
		t.Errorf("delete --shards 3 with a --remote without {shard}: exit %d, %q", code, errs)
	}
}

// TestLifeFlags: the expiry flags are checked together.
func TestLifeFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--default-expiry", "1d"}, ""},
		{[]string{"--default-expiry", "1d", "--max-expiry", "1w"}, ""},
		{[]string{"--max-expiry", "1w"}, "--default-expiry never is over --max-expiry"},
		{[]string{"--default-expiry", "2w", "--max-expiry", "1w"}, "over --max-expiry"},
		{[]string{"--default-expiry", "soon"}, "--default-expiry"},
		{[]string{"--purge-interval", "-1s"}, "--purge-interval"},
	} {
		_, err := parseServeFlags(c.args, nil)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%v: %v, want %q", c.args, err, c.err)
		}
	}
}

// TestTokenOffTheCommandLine: what put prints and the help texts show the
// delete token given on standard input, not with --token, which other
// local users read in the process list; the command put shows deletes
// the paste, and delete's help says why.
func TestTokenOffTheCommandLine(t *testing.T) {
	srv, _ := pastetest.NewServer(t)
	code, out, errs := runCmd("x", "put", "--server", srv.URL)
	if code != exitOK {
		t.Fatalf("put: exit %d, %q", code, errs)
	}
	u := strings.TrimSpace(out)
	m := regexp.MustCompile(`delete token: (\S+) \(.*echo (\S+) \| pasteur delete '(\S+)'`).FindStringSubmatch(errs)
	if m == nil || m[1] != m[2] || m[3] != u || strings.Contains(errs, "--token "+m[1]) {
		t.Fatalf("put printed %q; want the token and echo TOKEN | pasteur delete '%s'", errs, u)
	}
	if code, out, errs := runCmd(m[2]+"\n", "delete", m[3]); code != exitOK {
		t.Fatalf("the delete put showed: exit %d, %q %q", code, out, errs)
	}
	for _, args := range [][]string{{"put", "--help"}, {"--help"}} {
		_, out, errs := runCmd("", args...)
		if help := out + errs; strings.Contains(help, "--token T") {
			t.Errorf("%v shows --token with a token:\n%s", args, help)
		}
	}
	_, out, errs = runCmd("", "delete", "--help")
	if help := out + errs; !strings.Contains(help, "process list") {
		t.Errorf("delete --help does not say why the token goes on standard input:\n%s", help)
	}
}
