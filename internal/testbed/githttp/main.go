// Command githttp serves the bare repositories under -root with git's own
// smart-HTTP server, git http-backend, run as a CGI program by net/http/cgi,
// behind HTTP basic authentication; over TLS with -cert and -key. It is a
// peer for end-to-end tests and benchmarks, run inside a test namespace.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pasteur-dev/pasteur/internal/githttp"
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
	h := githttp.Handler(githttp.Config{
		Root:     *root,
		Backend:  filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		User:     *user,
		Password: *pass,
		Refused: func(r *http.Request, u string) {
			log.Printf("githttp: %s %s: unauthorized (user %q)", r.Method, r.URL, u)
		},
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
