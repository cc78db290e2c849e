package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// staticFiles serves the embedded files under static/ with a strong
// ETag (answering If-None-Match with 304) and, to clients that accept it,
// gzip. Each file is hashed and compressed once, on its first request.
type staticFiles struct {
	fsys fs.FS
	mu   sync.Mutex
	seen map[string]*staticFile
}

// staticFile is one file, ready to serve.
type staticFile struct {
	body, gz    []byte // gz is nil when compression does not pay
	etag, gzTag string
	contentType string
}

func newStaticFiles(fsys fs.FS) *staticFiles {
	return &staticFiles{fsys: fsys, seen: map[string]*staticFile{}}
}

// ServeHTTP serves the file named by the path, relative to static/.
func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	f, err := s.load(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache") // revalidate: a 304 costs little
	body, etag := f.body, f.etag
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = f.gz, f.gzTag
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match, HEAD and ranges.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// load returns the prepared file called name, or an error when there is
// no such regular file.
func (s *staticFiles) load(name string) (*staticFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.seen[name]; ok {
		return f, nil
	}
	body, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:12])
	f := &staticFile{body: body, etag: `"` + tag + `"`, contentType: contentType(name)}
	if compressible(f.contentType) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body)*9/10 {
			f.gz, f.gzTag = buf.Bytes(), `"`+tag+`-gz"`
		}
	}
	s.seen[name] = f
	return f, nil
}

// contentType names the type of a static file by its extension.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case "":
		return "text/plain; charset=utf-8" // LICENSE, VERSION
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || contentType == "image/svg+xml" || contentType == "application/json"
}

// acceptsGzip reads Accept-Encoding: gzip (or *, when gzip is not named)
// with a q value above zero.
func acceptsGzip(header string) bool {
	gz, star := -1, -1 // -1: not named, 0: refused, 1: accepted
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		ok := 1
		if k, v, _ := strings.Cut(strings.TrimSpace(params), "="); strings.EqualFold(strings.TrimSpace(k), "q") {
			if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil || q <= 0 {
				ok = 0
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gz = ok
		case "*":
			star = ok
		}
	}
	if gz >= 0 {
		return gz == 1
	}
	return star == 1
}
