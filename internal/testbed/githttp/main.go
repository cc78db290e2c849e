// Command githttp serves the bare repositories under -root with git's own
// smart-HTTP server, git http-backend, run as a CGI program by net/http/cgi,
// behind HTTP basic authentication; over TLS with -cert and -key. It is a
// peer for end-to-end tests and benchmarks, run inside a test namespace.
package main

import (
	"crypto/subtle"
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	root := flag.String("root", "", "directory of the bare repositories")
	user := flag.String("user", "", "basic auth user; any user with the password when empty (as forges take tokens)")
	pass := flag.String("pass", "", "basic auth password (required)")
	cert := flag.String("cert", "", "TLS certificate (PEM); with -key, serve HTTPS")
	key := flag.String("key", "", "TLS key (PEM)")
	flag.Parse()
	if *root == "" || *pass == "" {
		log.Fatal("githttp: -root and -pass are required")
	}
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		log.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + *root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if *user == "" {
			ok = ok && u != ""
		} else {
			ok = ok && u == *user
		}
		if !ok || subtle.ConstantTimeCompare([]byte(p), []byte(*pass)) != 1 {
			log.Printf("githttp: %s %s: unauthorized (user %q)", r.Method, r.URL, u)
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// git http-backend takes pushes from authenticated users only.
		h := *backend
		h.Env = append(h.Env, "REMOTE_USER="+u)
		h.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("githttp: serving %s on %s", *root, ln.Addr())
	if *cert != "" {
		log.Fatal(http.ServeTLS(ln, h, *cert, *key))
	}
	log.Fatal(http.Serve(ln, h))
}
