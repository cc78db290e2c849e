package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// The life of a paste on two instances sharing a remote served by git
// daemon: expiry, burn after reading, deletion with a token, the
// operator's deletion, a force-push that drops a paste, and the purge
// that takes removed text out of the history.

// syncEvery is the instances' --sync-interval in these tests.
const syncEvery = 2 * time.Second

// hostPasteur runs pasteur on the host stack of namespace ns at addr
// (10.0.0.x), with its metrics and detailed /healthz on metricsPort, and
// returns the command and its log's path. It is killed
// at cleanup, and its log shown if the test failed.
func hostPasteur(t *testing.T, bed *testbed.Bed, bin, ns, addr, name string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logf := createFile(t, logPath)
	cmd := bed.Command(ns, append([]string{bin, "--bind", addr, "--metrics-addr", addr + metricsPort}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := bed.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		bed.Stop(cmd)
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, readFile(t, logPath))
		}
	})
	if err := bed.WaitTCP(ns, addr+":4343", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return cmd, logPath
}

// call runs curl in ns with args and returns the status and the body.
func call(t *testing.T, bed *testbed.Bed, ns string, args ...string) (int, string) {
	t.Helper()
	out, _ := bed.Run(ns, append([]string{"curl", "-s", "-m", "20", "-w", "\n%{http_code}"}, args...)...)
	i := strings.LastIndexByte(out, '\n')
	code, _ := strconv.Atoi(strings.TrimSpace(out[i+1:]))
	return code, out[:max(i, 0)]
}

// callFound is call, trying again for a while on 404: a miss fetches at
// most once a second, so a paste made on another instance a moment ago
// may need a second try.
func callFound(t *testing.T, bed *testbed.Bed, ns string, args ...string) (int, string) {
	t.Helper()
	for try := 0; ; try++ {
		code, body := call(t, bed, ns, args...)
		if code != 404 || try == 10 {
			return code, body
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// created is a paste made by post.
type created struct {
	ID    string `json:"code"`
	Token string `json:"delete_token"`
	Text  string
}

// post pastes text to base with extra form fields, as JSON.
func post(t *testing.T, bed *testbed.Bed, ns, base, text string, fields ...string) created {
	t.Helper()
	args := []string{"-H", "Accept: application/json", "-F", "paste=" + text}
	for _, f := range fields {
		args = append(args, "-F", f)
	}
	code, body := call(t, bed, ns, append(args, base+"/")...)
	var c created
	if code != 200 || json.Unmarshal([]byte(body), &c) != nil || c.ID == "" || c.Token == "" {
		t.Fatalf("POST %s: %d %s", base, code, body)
	}
	c.Text = text
	return c
}

// eventually polls ok until it holds, or fails after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rawStatus is the status of GET base/id?raw=true in ns.
func rawStatus(t *testing.T, bed *testbed.Bed, ns, base, id string) int {
	t.Helper()
	code, _ := call(t, bed, ns, "-o", "/dev/null", base+"/"+id+"?raw=true")
	return code
}

// goneOnBoth waits until id answers 410 on every base, within two sync
// intervals and a margin.
func goneOnBoth(t *testing.T, bed *testbed.Bed, ns string, bases []string, id, what string) {
	t.Helper()
	for _, b := range bases {
		eventually(t, 2*syncEvery+5*time.Second, what+": "+id+" is 410 on "+b, func() bool {
			return rawStatus(t, bed, ns, b, id) == 410
		})
	}
}

// cloneObjects clones the bare repository anew (over the filesystem) and
// returns the contents of every object reachable in the clone.
func cloneObjects(t *testing.T, bare string) (string, string) {
	t.Helper()
	clone := filepath.Join(t.TempDir(), "clone.git")
	git(t, "", "clone", "-q", "--bare", "--no-local", bare, clone)
	list := git(t, clone, "rev-list", "--objects", "--all")
	var hashes strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		h, _, _ := strings.Cut(line, " ")
		hashes.WriteString(h + "\n")
	}
	cmd := exec.Command("git", "--git-dir="+clone, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(hashes.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return clone, string(out)
}

// TestLifecycle: expiry, burn, delete, the operator's delete and a
// force-push removal are each 410 on both instances within the sync
// interval, cached or not; a burn read at once on both instances is
// served once; after a purge a fresh clone has no blob of a removed paste
// and every live paste byte for byte.
func TestLifecycle(t *testing.T) {
	require(t, true, "git", "curl")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pastes.git")
	bed, err := testbed.New("life")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	gitDaemon(t, bed, tmp)
	remote := "git://" + testbed.BridgeAddr + "/pastes.git"
	common := []string{"--remote", remote, "--sync-interval", syncEvery.String()}
	a := startPasteur(t, bed, pasteurRun{bin: bin, name: "a", args: append([]string{"--data", filepath.Join(tmp, "a"), "--purge-interval", "0"}, common...)})
	nsB, err := bed.AddHost("b", "10.0.0.5/24")
	if err != nil {
		t.Fatal(err)
	}
	hostPasteur(t, bed, bin, nsB, "10.0.0.5", "b", append([]string{"--data", filepath.Join(tmp, "b"), "--purge-interval", "0"}, common...)...)
	A, B := "http://"+testbed.TapAddr+":4343", "http://10.0.0.5:4343"
	both := []string{A, B}
	ns := bed.Bridge
	readOnBoth := func(c created) {
		t.Helper()
		for _, b := range both {
			if code, body := callFound(t, bed, ns, b+"/"+c.ID+"?raw=true"); code != 200 || body != c.Text {
				t.Fatalf("GET %s/%s: %d %q, want %q", b, c.ID, code, body, c.Text)
			}
		}
	}
	var live, removed []created

	// Expiry: cached on both, then 410 on both.
	exp := post(t, bed, ns, A, "EXPIRES-marker", "expire=4s")
	readOnBoth(exp)
	goneOnBoth(t, bed, ns, both, exp.ID, "expiry")
	removed = append(removed, exp)

	// Delete with the token on A, cached on B.
	del := post(t, bed, ns, A, "DELETED-marker")
	readOnBoth(del)
	if code, _ := call(t, bed, ns, "-X", "DELETE", "-H", "Authorization: Bearer wrong", A+"/"+del.ID); code != 403 {
		t.Errorf("DELETE with a wrong token: %d, want 403", code)
	}
	if code, _ := call(t, bed, ns, "-X", "DELETE", "-H", "Authorization: Bearer "+del.Token, B+"/nosuchpaste1"); code != 404 {
		t.Errorf("DELETE of an unknown id: %d, want 404", code)
	}
	if code, _ := call(t, bed, ns, "-X", "DELETE", "-H", "Authorization: Bearer "+del.Token, A+"/"+del.ID); code != 204 {
		t.Fatalf("DELETE: %d, want 204", code)
	}
	goneOnBoth(t, bed, ns, both, del.ID, "delete")
	removed = append(removed, del)

	// Burn: two readers at once, one on each instance; one gets it.
	for i := range 3 {
		burn := post(t, bed, ns, A, fmt.Sprintf("BURNED-marker-%d", i), "burn=on")
		if code, body := callFound(t, bed, ns, "-H", "Accept: text/html", B+"/"+burn.ID); code != 200 || strings.Contains(body, burn.Text) || !strings.Contains(body, "deleted once read") {
			t.Fatalf("the page of a burn paste: %d, shows the text or does not ask", code)
		}
		out, _ := bed.Run(ns, "bash", "-c", fmt.Sprintf(
			`curl -s -m 20 -o /dev/null -w '%%{http_code}\n' %s/%s?raw=true & curl -s -m 20 -o /dev/null -w '%%{http_code}\n' %s/%s?raw=true & wait`,
			A, burn.ID, B, burn.ID))
		codes := strings.Fields(out)
		if strings.Count(out, "200") != 1 {
			t.Errorf("burn %d: read at once on both: %v, want one 200", i, codes)
		}
		goneOnBoth(t, bed, ns, both, burn.ID, "burn")
		removed = append(removed, burn)
	}

	// The operator's delete, from a repository of its own.
	op := post(t, bed, ns, B, "OPERATOR-marker")
	readOnBoth(op)
	if out, err := bed.Run(ns, bin, "delete", "--data", "", "--remote", remote, op.ID); err != nil {
		t.Fatalf("pasteur delete --data: %v\n%s", err, out)
	}
	goneOnBoth(t, bed, ns, both, op.ID, "operator's delete")
	removed = append(removed, op)

	// A force-push that drops a paste's commit.
	for i := range 3 {
		live = append(live, post(t, bed, ns, []string{A, B}[i%2], fmt.Sprintf("live paste %d\r\n\ttab 🦀", i)))
	}
	cut := post(t, bed, ns, A, "FORCEPUSHED-marker")
	readOnBoth(cut)
	live = append(live, post(t, bed, ns, B, "live paste after the cut"))
	waitPushed(t, bed, ns, A)
	waitPushed(t, bed, nsB, B)
	work := filepath.Join(tmp, "work")
	git(t, "", "clone", "-q", bare, work)
	commit := strings.TrimSpace(git(t, "", "-C", work, "log", "--format=%H", "-1", "--", pathOf(t, bare, cut.ID)))
	git(t, "", "-C", work, "rebase", "-q", "--onto", commit+"~1", commit, "master")
	git(t, "", "-C", work, "push", "-q", "-f", "origin", "master")
	goneOnBoth(t, bed, ns, both, cut.ID, "force-push")
	for _, c := range live {
		readOnBoth(c)
	}

	// The purge, run by a, and adopted by b.
	a.stop(t)
	a = startPasteur(t, bed, pasteurRun{bin: bin, name: "a-purging", args: append([]string{"--data", filepath.Join(tmp, "a"), "--purge-interval", "3s"}, common...)})
	markers := regexp.MustCompile(`(EXPIRES|DELETED|BURNED|OPERATOR|FORCEPUSHED)-marker`)
	eventually(t, 60*time.Second, "a fresh clone holds no removed paste", func() bool {
		_, objs := cloneObjects(t, bare)
		return !markers.MatchString(objs)
	})
	live = append(live, post(t, bed, ns, B, "after the purge, on b"))
	waitPushed(t, bed, nsB, B)
	waitPushed(t, bed, ns, A)
	clone, objs := cloneObjects(t, bare)
	if m := markers.FindAllString(objs, -1); len(m) > 0 {
		t.Errorf("a fresh clone holds removed pastes: %v", m)
	}
	for _, c := range live {
		var doc struct{ Contents string }
		if err := json.Unmarshal([]byte(git(t, clone, "show", "master:"+pathOf(t, clone, c.ID))), &doc); err != nil || doc.Contents != c.Text {
			t.Errorf("clone %s: %q, %v; want %q", c.ID, doc.Contents, err, c.Text)
		}
		readOnBoth(c)
	}
	for _, c := range removed {
		for _, b := range both {
			if code := rawStatus(t, bed, ns, b, c.ID); code != 410 {
				t.Errorf("%s/%s after the purge: %d, want 410", b, c.ID, code)
			}
		}
	}
	if refs := git(t, bare, "for-each-ref"); strings.Contains(refs, "refs/pasteur") {
		t.Errorf("the purge left its ref:\n%s", refs)
	}
	fsck(t, bare)
	if t.Failed() {
		t.Logf("a's log:\n%s", readFile(t, a.log))
	}
	_ = os.Remove(work)
}

// loadScript is one client of TestLifecycleUnderLoad: for each round, on
// instances X and Y taken in turn, a live paste; a paste deleted on the
// other instance with its token, then read there; a burn paste read at
// once on both. It prints what happened, one line each.
const loadScript = `c=$1; n=$2; A=$3; B=$4
field() { sed -n 's/.*"'$1'":"\([^"]*\)".*/\1/p'; }
for i in $(seq 1 $n); do
  if [ $((i % 2)) = 0 ]; then X=$A; Y=$B; else X=$B; Y=$A; fi
  out=$(curl -s -f -m 15 -H 'Accept: application/json' -F "paste=LIVE-$c-$i" $X/) && echo "LIVE $(echo "$out" | field code) LIVE-$c-$i"
  out=$(curl -s -f -m 15 -H 'Accept: application/json' -F "paste=GONE-$c-$i" $X/) && {
    id=$(echo "$out" | field code); tok=$(echo "$out" | field delete_token)
    code=000
    for try in 1 2 3 4 5; do
      code=$(curl -s -o /dev/null -w '%{http_code}' -m 15 -X DELETE -H "Authorization: Bearer $tok" $Y/$id)
      [ "$code" = 404 ] || break; sleep 0.3
    done
    if [ "$code" = 204 ]; then
      echo "DEL $id GONE-$c-$i"
      echo "AFTER $id $(curl -s -o /dev/null -w '%{http_code}' -m 15 $Y/$id?raw=true)"
    else
      echo "KEPT $id GONE-$c-$i $code"
    fi
  }
  out=$(curl -s -f -m 15 -H 'Accept: application/json' -F burn=on -F "paste=BURN-$c-$i" $X/) && {
    id=$(echo "$out" | field code)
    echo "BURN $id BURN-$c-$i"
    sleep 1.2
    curl -s -o /dev/null -w "READ $id %{http_code}\n" -m 15 $A/$id?raw=true &
    curl -s -o /dev/null -w "READ $id %{http_code}\n" -m 15 $B/$id?raw=true &
    wait
  }
done`

// TestLifecycleUnderLoad: two instances take pastes, deletes and burns,
// interleaved, from four clients; one purges every few seconds and is
// SIGKILLed and restarted in the middle. Then: no acknowledged live paste
// is lost, no removed paste is served after its removal, no burn paste is
// served twice, and a fresh clone holds none of the removed ones.
func TestLifecycleUnderLoad(t *testing.T) {
	require(t, true, "git", "curl", "bash", "sed")
	bin := buildPasteur(t)
	tmp := t.TempDir()
	bare := newBareRepo(t, tmp, "pastes.git")
	bed, err := testbed.New("lload")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	gitDaemon(t, bed, tmp)
	remote := "git://" + testbed.BridgeAddr + "/pastes.git"
	common := []string{"--remote", remote, "--sync-interval", syncEvery.String()}
	argsA := append([]string{"--data", filepath.Join(tmp, "a"), "--purge-interval", "4s"}, common...)
	a := startPasteur(t, bed, pasteurRun{bin: bin, name: "a", args: argsA})
	nsB, err := bed.AddHost("b", "10.0.0.5/24")
	if err != nil {
		t.Fatal(err)
	}
	hostPasteur(t, bed, bin, nsB, "10.0.0.5", "b", append([]string{"--data", filepath.Join(tmp, "b"), "--purge-interval", "0"}, common...)...)
	A, B := "http://"+testbed.TapAddr+":4343", "http://10.0.0.5:4343"
	ns := bed.Bridge

	const clients, rounds = 4, 12
	outs := make([]*strings.Builder, clients)
	cmds := make([]*exec.Cmd, clients)
	for c := range clients {
		outs[c] = &strings.Builder{}
		cmds[c] = bed.Command(ns, "timeout", "240", "bash", "-c", loadScript, "load", strconv.Itoa(c), strconv.Itoa(rounds), A, B)
		cmds[c].Stdout = outs[c]
		if err := bed.Start(cmds[c]); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(8 * time.Second)
	a.kill()
	killedLog := readFile(t, a.log)
	time.Sleep(2 * time.Second)
	a = startPasteur(t, bed, pasteurRun{bin: bin, name: "a-restarted", args: argsA})
	for _, cmd := range cmds {
		_ = cmd.Wait()
	}
	// The purges that ran while the load did.
	logs := killedLog + readFile(t, a.log)
	purges := strings.Count(logs, "purged the history")
	later := strings.Count(logs, "no purge this time")
	t.Logf("purges during the load: %d done, %d put off (the remote moved)", purges, later)
	if purges == 0 {
		t.Error("no purge ran during the load")
	}

	type rec struct{ id, text string }
	var live, gone []rec
	reads := map[string][]string{}
	for c := range clients {
		for _, line := range strings.Split(outs[c].String(), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			switch f[0] {
			case "LIVE":
				live = append(live, rec{f[1], f[2]})
			case "KEPT":
				// A delete that got no answer (000: its instance was
				// killed) or a 5xx may have happened or not: the
				// paste is neither live nor removed for the checks.
				if len(f) > 3 && (f[3] == "000" || strings.HasPrefix(f[3], "5")) {
					continue
				}
				live = append(live, rec{f[1], f[2]})
			case "DEL":
				gone = append(gone, rec{f[1], f[2]})
			case "AFTER":
				if f[2] == "200" {
					t.Errorf("deleted paste %s served after its delete", f[1])
				}
			case "BURN":
				reads[f[1]] = append(reads[f[1]], "text="+f[2])
			case "READ":
				reads[f[1]] = append(reads[f[1]], f[2])
			}
		}
	}
	burned, twice := 0, 0
	for id, r := range reads {
		n := 0
		for _, x := range r {
			if x == "200" {
				n++
			}
		}
		switch n {
		case 0:
			// Neither read got it (503 while a was down, or 404 on an
			// instance that had not fetched it): it may be there still.
		case 1:
			burned++
			gone = append(gone, rec{id, strings.TrimPrefix(r[0], "text=")})
		default:
			twice++
			t.Errorf("burn paste %s served %d times: %v", id, n, r)
		}
	}
	t.Logf("%d live pastes acknowledged, %d deleted, %d burned (read once), %d burns read twice", len(live), len(gone)-burned, burned, twice)
	if len(live) < clients*rounds/2 || len(gone) == 0 {
		t.Errorf("too little was done: %d live, %d removed", len(live), len(gone))
	}

	waitPushed(t, bed, ns, A)
	waitPushed(t, bed, nsB, B)
	ids := make([]string, len(live))
	for i, r := range live {
		ids[i] = r.id
	}
	checkRemote(t, bare, ids)
	// Every live paste served by both; every removed one gone on both.
	check := func(recs []rec, want string) {
		var script strings.Builder
		for _, r := range recs {
			for _, b := range []string{A, B} {
				fmt.Fprintf(&script, "curl -s -o /dev/null -w '%%{http_code} %s %s\\n' -m 20 %s/%s?raw=true\n", r.id, b, b, r.id)
			}
		}
		for try := 0; ; try++ {
			out, _ := bed.Run(ns, "bash", "-c", script.String())
			bad := []string{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if !strings.HasPrefix(line, want+" ") {
					bad = append(bad, line)
				}
			}
			if len(bad) == 0 {
				return
			}
			if try == 5 {
				t.Errorf("want %s: %d answers differ, e.g. %v", want, len(bad), bad[:min(len(bad), 5)])
				return
			}
			time.Sleep(syncEvery)
		}
	}
	check(live, "200")
	check(gone, "410")

	// After the next purge a fresh clone holds none of the removed texts.
	eventually(t, 90*time.Second, "a fresh clone holds no removed paste", func() bool {
		_, objs := cloneObjects(t, bare)
		for _, r := range gone {
			if strings.Contains(objs, `"contents":"`+r.text+`"`) {
				return false
			}
		}
		return true
	})
	_, objs := cloneObjects(t, bare)
	for _, r := range live {
		if !strings.Contains(objs, `"contents":"`+r.text+`"`) {
			t.Errorf("live paste %s (%s) is not in a fresh clone", r.id, r.text)
		}
	}
	fsck(t, bare)
}
