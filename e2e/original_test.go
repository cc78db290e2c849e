package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// TestOriginalRepository is issue 14: someone who ran the original
// pasteur moves to pasteur. Its repository, as the git-era original wrote
// it (flat ID files, commits by "Git KV"), holds clear pastes, an id of
// the newest original's alphabet, and encrypted pastes that chromium's
// WebCrypto made the original's way, with the fixed IV and with a random
// IV in front. git daemon serves it on loopback; pasteur, on loopback
// too, serves it, and its links, URLs, clients, flags and layout are
// checked through the binary and the browser.
func TestOriginalRepository(t *testing.T) {
	require(t, false, "git", "chromium")
	bin := buildPasteur(t)
	c := newChrome(t)
	defer c.checkQuiet(t)
	b := c.tab(t)

	o := newOriginal(t, b)
	tmp, bare, text, fixed, newest, pastes := o.dir, o.bare, o.text, o.fixed, o.newest, o.pastes

	gitPort := strconv.Itoa(freePort(t))
	daemon := exec.Command("git", "daemon", "--listen=127.0.0.1", "--port="+gitPort, "--base-path="+tmp,
		"--export-all", "--enable=receive-pack", "--reuseaddr", "--informative-errors")
	var daemonLog bytes.Buffer
	daemon.Stdout, daemon.Stderr = &daemonLog, &daemonLog
	daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-daemon.Process.Pid, syscall.SIGKILL) // the daemon and its children, by group
		_ = daemon.Wait()
		if t.Failed() {
			t.Logf("git daemon's log:\n%s", daemonLog.String())
		}
	})
	waitTCP(t, "127.0.0.1:"+gitPort)

	port := strconv.Itoa(freePort(t))
	base := "http://127.0.0.1:" + port
	data := filepath.Join(tmp, "data")
	remote := "git://127.0.0.1:" + gitPort + "/orig.git"
	stop := startLocal(t, bin, "--port", port, "--remote", remote, "--data", data,
		"--title", "Past-isserie", "--subtitle", "the original's heading")

	// 2. Its ids, of both alphabets; 3. ?raw and ?ln with no value.
	for _, tt := range []struct{ target, want string }{
		{"/Ab3?raw", "git era\r\nclear paste\n"},
		{"/x_-Z?raw", "newest alphabet\n"},
		{"/x_-Z?raw=&hl=go", "newest alphabet\n"},
	} {
		if got := mustGet(t, base+tt.target); got != tt.want {
			t.Errorf("GET %s: %q, want %q", tt.target, got, tt.want)
		}
	}
	if page := mustGet(t, base+"/Ab3?ln"); !strings.Contains(page, `data-ln="true"`) {
		t.Error("?ln does not number lines")
	}
	for _, asset := range []string{"/pasteur.js", "/highlight.js", "/pastisserie.css", "/nosuch"} {
		if code := status(t, "GET", base+asset); code != 404 {
			t.Errorf("GET %s: %d, want 404", asset, code)
		}
	}

	// 1. Its encrypted links open with pasteur get...
	links := map[string]string{
		base + "/Enc#" + fixed.Fragment:                text,
		base + "/Nw1?hl=go&ln=true#" + newest.Fragment: text + "// newest\n",
	}
	for link, want := range links {
		if got := runBin(t, bin, "get", link); got != want {
			t.Errorf("pasteur get %s: %q, want %q", link, got, want)
		}
	}
	// ...and in the page, highlighted, with line links that keep the key,
	// and in the raw view.
	for link, want := range links {
		b.open(link)
		if got := b.str(`document.getElementById("code").textContent`); got != want {
			t.Errorf("page %s shows %q, want %q (status %q)", link, got, want, b.evalString(`document.getElementById("status").textContent`))
		}
	}
	b.open(base + "/Enc?ln#" + fixed.Fragment + "-L4")
	if !b.truth(`document.getElementById("L4").classList.contains("selected")`) ||
		b.str(`document.querySelector("#L2 a.ln").getAttribute("href")`) != "#"+fixed.Fragment+"-L2" {
		t.Error("line links of an original paste lose the key or the selection")
	}
	b.open(base + "/Nw1?raw#" + newest.Fragment)
	if got := b.str(`document.getElementById("raw").textContent`); got != text+"// newest\n" {
		t.Errorf("raw view: %q", got)
	}
	other := b.encryptOriginal("x", nil, "")
	b.open(base + "/Enc#" + other.Fragment)
	if msg := b.str(`document.getElementById("status").textContent`); !strings.Contains(msg, "cannot be decrypted") {
		t.Errorf("a wrong key says %q", msg)
	}
	if out, err := exec.Command(bin, "get", base+"/Enc#"+other.Fragment).CombinedOutput(); err == nil || !strings.Contains(string(out), "wrong key") {
		t.Errorf("pasteur get with a wrong key: %v %s", err, out)
	}

	// 5. --title and --subtitle head the page.
	b.open(base + "/")
	if got := b.str(`document.title + "|" + document.getElementById("title").textContent + "|" + document.getElementById("subtitle").textContent`); got != "Past-isserie|Past-isserie|the original's heading" {
		t.Errorf("heading %q", got)
	}

	// 4. Its clients: ?format=json, and CORS only where it is public.
	resp := postForm(t, base+"/?format=json", map[string]string{"paste": "from a client", "ln": ""}, "")
	var answer struct {
		Code string `json:"code"`
		LN   bool   `json:"ln"`
	}
	if err := json.Unmarshal(resp.body, &answer); err != nil || !answer.LN || resp.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("POST /?format=json: %s %v", resp.body, resp.header)
	}
	r, err := http.Get(base + "/" + answer.Code + "?format=json")
	if err != nil || r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET ?format=json: %v %v", err, r.Header)
	}
	r.Body.Close()
	// 6. New pastes go to ID[0]/ID[1]/ID on the remote.
	if p := pathOf(t, bare, answer.Code); p != answer.Code[:1]+"/"+answer.Code[1:2]+"/"+answer.Code {
		t.Errorf("new paste at %s", p)
	}
	stop()

	// 5. -h NAME is --hostname; -h alone is --help.
	if help := runBin(t, bin, "-h"); !strings.Contains(help, "-hostname") || !strings.Contains(help, "-title") {
		t.Errorf("pasteur -h:\n%s", help)
	}
	if out, err := exec.Command(bin, "-h", "paste.example.org", "--data", filepath.Join(tmp, "unused")).CombinedOutput(); err == nil || !strings.Contains(string(out), "--hostname") {
		t.Errorf("pasteur -h NAME without --https: %v %s", err, out)
	}

	// 6. pasteur migrate moves the flat files in one commit, ids and blobs
	// unchanged; the server pushes it when it starts again.
	before := git(t, data, "ls-tree", "-r", "master")
	out := runBin(t, bin, "migrate", "--data", data)
	if !strings.Contains(out, "moved 4 pastes") {
		t.Fatalf("pasteur migrate: %s", out)
	}
	after := git(t, data, "ls-tree", "-r", "master")
	for _, p := range pastes {
		blob := strings.Fields(before[strings.Index(before, "\t"+p.id+"\n")-41:])[0]
		want := blob + "\t" + p.id[:1] + "/" + p.id[1:2] + "/" + p.id + "\n"
		if !strings.Contains(after, want) {
			t.Errorf("after migrate, no %q in\n%s", want, after)
		}
	}
	startLocal(t, bin, "--port", port, "--remote", remote, "--data", data, "--json-answers")
	deadline := time.Now().Add(30 * time.Second)
	for git(t, bare, "rev-parse", "master") != git(t, data, "rev-parse", "master") {
		if time.Now().After(deadline) {
			t.Fatal("the migration commit was not pushed")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := git(t, bare, "ls-tree", "-r", "master"); got != after {
		t.Errorf("remote tree:\n%s\nwant\n%s", got, after)
	}
	for link, want := range links {
		if got := runBin(t, bin, "get", link); got != want {
			t.Errorf("after migrate, pasteur get %s: %q", link, got)
		}
	}
	if got := mustGet(t, base+"/x_-Z?raw"); got != "newest alphabet\n" {
		t.Errorf("after migrate: %q", got)
	}
	b.open(base + "/Enc#" + fixed.Fragment)
	if got := b.str(`document.getElementById("code").textContent`); got != text {
		t.Errorf("after migrate, the page shows %q", got)
	}

	// 4. --json-answers: every POST answer is the git-era original's JSON.
	resp = postForm(t, base+"/", map[string]string{"paste": "drop-in", "hl": "ocaml"}, "text/html")
	var orig map[string]any
	if err := json.Unmarshal(resp.body, &orig); err != nil || orig["ln"] != false || orig["raw"] != false || orig["hl"] != "ocaml" ||
		resp.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("--json-answers: %s %v %v", resp.body, resp.header, err)
	}
}

// original is a repository as the git-era original wrote it.
type original struct {
	dir, bare     string // bare is dir/orig.git
	text          string // the text of both encrypted pastes (newest's ends with "// newest\n")
	fixed, newest legacyPaste
	pastes        []struct{ id, doc string }
}

// newOriginal makes the original's encrypted pastes in the tab, its way,
// and its repository with real git: one commit per paste by git-kv, flat
// files. A clear paste has no "encrypted" (its encoder left out the
// default).
func newOriginal(t *testing.T, b *tab) *original {
	t.Helper()
	b.do(chromedp.Navigate(originalPage(t)))
	o := &original{dir: t.TempDir(), text: "package main\n\nfunc main() {\n\tprintln(\"héllo, 🦀\")\r\n}\n"}
	o.bare = filepath.Join(o.dir, "orig.git")
	o.fixed = b.encryptOriginal(o.text, nil, "")
	o.newest = b.encryptOriginal(o.text+"// newest\n", nil, "random")
	doc := func(contents string, encrypted bool) string {
		b, _ := json.Marshal(map[string]any{"contents": contents, "encrypted": encrypted})
		if !encrypted {
			b, _ = json.Marshal(map[string]any{"contents": contents})
		}
		return string(b)
	}
	o.pastes = []struct{ id, doc string }{
		{"Ab3", doc("git era\r\nclear paste\n", false)},
		{"x_-Z", doc("newest alphabet\n", false)},
		{"Enc", doc(o.fixed.Contents, true)},
		{"Nw1", doc(o.newest.Contents, true)},
	}
	var imp bytes.Buffer
	for i, p := range o.pastes {
		fmt.Fprintf(&imp, "commit refs/heads/master\ncommitter Git KV <git-noreply@robur.coop> %d +0000\ndata 20\nCommitted by git-kv\n", 1700000000+i)
		fmt.Fprintf(&imp, "M 100644 inline %s\ndata %d\n%s\n", p.id, len(p.doc), p.doc)
	}
	git(t, "", "init", "-q", "--bare", "-b", "master", o.bare)
	fi := exec.Command("git", "--git-dir="+o.bare, "fast-import", "--quiet")
	fi.Stdin = &imp
	if out, err := fi.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	if log := git(t, o.bare, "log", "--format=%an <%ae> %s", "master"); strings.Count(log, "Git KV <git-noreply@robur.coop> Committed by git-kv") != 4 {
		t.Fatalf("history:\n%s", log)
	}
	return o
}

// TestOriginalRepositoryTap: the same repository in the deployment of the
// README: git daemon on the bridge, pasteur on tap100 with its own stack
// and --json-answers. From the bridge, curl reads its ids and URLs and
// posts as its clients did, and pasteur get opens its encrypted links.
func TestOriginalRepositoryTap(t *testing.T) {
	require(t, true, "git", "curl", "chromium")
	bin := buildPasteur(t)
	c := newChrome(t)
	o := newOriginal(t, c.tab(t))
	bed, err := testbed.New("orig")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bed.Close)
	startPeer(t, bed, testbed.BridgeAddr+":9418", "git", "daemon", "--listen="+testbed.BridgeAddr, "--base-path="+o.dir,
		"--export-all", "--enable=receive-pack", "--reuseaddr", "--informative-errors")
	startPasteur(t, bed, pasteurRun{bin: bin, name: "pasteur", args: []string{"--remote", "git://" + testbed.BridgeAddr + "/orig.git",
		"--data", filepath.Join(o.dir, "data"), "--json-answers"}})
	base := "http://" + testbed.TapAddr + ":4343"
	curl := func(args ...string) string {
		t.Helper()
		out, err := bed.Run(bed.Bridge, append([]string{"curl", "-sS", "--fail-with-body", "-m", "20"}, args...)...)
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		return out
	}
	if got := curl(base + "/x_-Z?raw"); got != "newest alphabet\n" {
		t.Errorf("?raw on an id of the newest alphabet: %q", got)
	}
	if got := curl(base + "/Ab3?raw"); got != "git era\r\nclear paste\n" {
		t.Errorf("?raw: %q", got)
	}
	if page := curl(base + "/Ab3?ln"); !strings.Contains(page, `data-ln="true"`) {
		t.Error("?ln does not number lines")
	}
	for link, want := range map[string]string{base + "/Enc#" + o.fixed.Fragment: o.text, base + "/Nw1#" + o.newest.Fragment: o.text + "// newest\n"} {
		out, err := bed.Run(bed.Bridge, bin, "get", link)
		if err != nil || out != want {
			t.Errorf("pasteur get %s: %q, %v", link, out, err)
		}
	}
	// The original's client: curl -F with no Accept gets its JSON.
	out := curl("-i", "-F", "paste=from the original's client", "-F", "ln=on", base+"/")
	head, body, _ := strings.Cut(out, "\r\n\r\n")
	var a map[string]any
	if err := json.Unmarshal([]byte(body), &a); err != nil || a["ln"] != true || a["raw"] != false ||
		!strings.Contains(strings.ToLower(head), "access-control-allow-origin: *") {
		t.Fatalf("POST answer:\n%s", out)
	}
	if id, _ := a["code"].(string); pathOf(t, o.bare, id) != id[:1]+"/"+id[1:2]+"/"+id {
		t.Errorf("new paste %s not in ID[0]/ID[1]/ID", id)
	}
}

// answer is an HTTP answer, read whole.
type answer struct {
	header http.Header
	body   []byte
}

// postForm posts fields as multipart/form-data, as the original's page
// and curl -F do.
func postForm(t *testing.T, url string, fields map[string]string, accept string) answer {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", url, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	return answer{resp.Header, b}
}

func status(t *testing.T, method, url string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// runBin runs the pasteur binary and returns its standard output.
func runBin(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pasteur %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// waitTCP waits until something accepts on addr, on loopback.
func waitTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if code := exec.Command("bash", "-c", "exec 3<>/dev/tcp/"+strings.Replace(addr, ":", "/", 1)).Run(); code == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing accepts on %s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
