package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// baselineServer is the minimal, non-durable pastebin the create figures
// are compared with: it parses the multipart body, writes the paste to one
// file (no fsync, no history, no remote) and answers its URL. It is what a
// small pastebin that keeps one file per paste does, and a floor for what
// creating a paste over HTTP costs on this machine.
func baselineServer(addr, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		text := r.FormValue("paste")
		if f, _, err := r.FormFile("paste"); err == nil {
			b, _ := io.ReadAll(f)
			f.Close()
			text = string(b)
		}
		id := rand.Text()[:13]
		if err := os.WriteFile(filepath.Join(dir, id), []byte(text), 0o644); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "http://%s/%s\n", r.Host, id)
	})
	return http.ListenAndServe(addr, mux)
}
