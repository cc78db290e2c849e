// Package web is pasteur's website and HTTP API: the form at /, POST / to
// paste, GET /ID as a page, raw text or JSON, and the embedded page files
// (templates, script, style and the bundled highlight.js under static/).
// It serves any paste.Store and maps the domain's errors to HTTP statuses.
//
// It is a plain http.Handler: main serves it on whatever listener it has.
package web

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/seal"
)

//go:embed *.html static
var assets embed.FS

// Config configures the website. Store is required; the zero value of every
// other field has a sensible default.
type Config struct {
	Store    paste.Store
	Logger   *slog.Logger
	MaxSize  int64 // largest paste in bytes; paste.DefaultMaxSize when 0
	IDLength int   // length of new ids; paste.DefaultIDLength when 0

	// NewID makes the id of a new paste of IDLength characters, for a
	// store that chooses where its pastes go by id (package
	// paste/shard); paste.NewID when nil.
	NewID func(n int) (string, error)

	// Title and Subtitle head the pages, as the original's --title and
	// --subtitle did; "pasteur" and a line saying what it does when "".
	Title, Subtitle string

	// JSONAnswers makes POST / answer JSON whatever the request accepts,
	// as the original did, with ln and raw always present and
	// Access-Control-Allow-Origin: *: a drop-in for its clients. Otherwise
	// JSON is for Accept: application/json or ?format=json.
	JSONAnswers bool

	// User, when set, names the user a request was authenticated as
	// (false when it was not). That name is the paste's user, and the
	// commit's author, whatever the form says.
	User func(*http.Request) (string, bool)

	// WriteStall is how long a client may take to read each step of
	// an answer before the connection is closed (DefaultWriteStall when
	// 0). Answers are streamed: a client that stops reading holds a
	// chunk of the answer until then, not all of it.
	WriteStall time.Duration

	// WriteStep is how much of an answer one write to the connection
	// carries at most, and so how much a client gets WriteStall to take
	// (DefaultWriteStep when 0). A paste's raw text is written from
	// memory in steps of it.
	WriteStep int

	// RenderCache bounds, in bytes, the escaped forms of recently shown
	// pastes (their pages' text, their JSON), made once and shared by
	// their readers (DefaultRenderCache when 0).
	RenderCache int64

	// DefaultExpiry is the life of a paste that asks for none; 0 is
	// forever. MaxExpiry is the longest a paste may ask for; 0 is no
	// limit, and with one a paste cannot ask to live forever.
	DefaultExpiry, MaxExpiry time.Duration
}

// Handler serves the paste website: the form at /, pastes at /ID (as a
// page, raw text or JSON), and the static files under /static/.
type Handler struct {
	store   paste.Store
	log     *slog.Logger
	maxSize int64
	// pasteLimit is the longest paste body taken: maxSize, or the
	// envelope of an encrypted paste of maxSize (seal.MaxLen).
	pasteLimit int64
	idLength   int
	newID      func(int) (string, error)
	title      string
	subtitle   string
	user       func(*http.Request) (string, bool)
	stall      time.Duration
	step       int               // the most one write of an answer carries
	escaper    *strings.Replacer // a paste's text into a page
	// renderings are the shared forms of recently shown pastes.
	renderings *renderings
	langs      *Languages
	pages      *template.Template
	mux        *http.ServeMux
	now        func() time.Time

	jsonAnswers bool

	// defaultExpiry and maxExpiry: see Config.
	defaultExpiry, maxExpiry time.Duration
}

// NewHandler returns the website's handler.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("paste: no store")
	}
	h := &Handler{
		store:    cfg.Store,
		log:      cfg.Logger,
		maxSize:  cfg.MaxSize,
		idLength: cfg.IDLength,
		newID:    cfg.NewID,
		title:    cmp.Or(cfg.Title, "pasteur"),
		subtitle: cmp.Or(cfg.Subtitle, "paste text, share the link"),
		user:     cfg.User,
		stall:    cfg.WriteStall,
		step:     cfg.WriteStep,
		langs:    newLanguages(),
		now:      time.Now,

		jsonAnswers:   cfg.JSONAnswers,
		defaultExpiry: cfg.DefaultExpiry,
		maxExpiry:     cfg.MaxExpiry,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxSize <= 0 {
		h.maxSize = paste.DefaultMaxSize
	}
	h.pasteLimit = int64(seal.MaxLen(int(h.maxSize)))
	if h.stall <= 0 {
		h.stall = DefaultWriteStall
	}
	if h.step <= 0 {
		h.step = DefaultWriteStep
	}
	h.escaper = newExactEscaper()
	h.renderings = newRenderings(cmp.Or(cfg.RenderCache, DefaultRenderCache))
	if h.newID == nil {
		h.newID = paste.NewID
	}
	if h.idLength == 0 {
		h.idLength = paste.DefaultIDLength
	}
	if _, err := paste.NewID(h.idLength); err != nil {
		return nil, err
	}
	if h.defaultExpiry < 0 || h.maxExpiry < 0 || h.maxExpiry > 0 && (h.defaultExpiry == 0 || h.defaultExpiry > h.maxExpiry) {
		return nil, fmt.Errorf("paste: the default expiry (%s) must be within the maximum (%s)", paste.FormatExpiry(h.defaultExpiry), paste.FormatExpiry(h.maxExpiry))
	}
	pages, err := template.New("").ParseFS(assets, "*.html")
	if err != nil {
		return nil, err
	}
	h.pages = pages
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /{$}", h.form)
	h.mux.HandleFunc("POST /{$}", h.create)
	h.mux.HandleFunc("GET /{id}", h.show)
	h.mux.HandleFunc("POST /{id}", h.burnRead)
	h.mux.HandleFunc("DELETE /{id}", h.remove)
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", newStaticFiles(static)))
	return h, nil
}

// ServeHTTP sets the security headers every response carries, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// What Header.Set does, with the keys written canonical and the
	// four values in one allocation; each value's slice is capped, so
	// that an Add to one of them copies it rather than write over the
	// next.
	hd := w.Header()
	v := make([]string, 4)
	v[0], v[1], v[2], v[3] = contentSecurityPolicy, "nosniff", "no-referrer", "DENY"
	hd["Content-Security-Policy"] = v[0:1:1]
	hd["X-Content-Type-Options"] = v[1:2:2]
	hd["Referrer-Policy"] = v[2:3:3]
	hd["X-Frame-Options"] = v[3:4:4]
	h.mux.ServeHTTP(&progressWriter{ResponseWriter: w, rc: *http.NewResponseController(w), step: h.step, stall: h.stall}, r)
}

// contentSecurityPolicy is the policy every answer carries: the pages
// load only their own files.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// fail answers a request that went wrong: the one place errors become HTTP
// statuses. Users get a one-line reason; details go to the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if gone := r.Context().Err(); gone != nil && errors.Is(err, gone) {
		// The client went away: nobody reads an answer, and it is
		// not the server's failure.
		h.log.Debug("request given up, the client went away", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	status, msg := http.StatusInternalServerError, "internal error"
	var reqErr *requestError
	switch {
	case errors.As(err, &reqErr):
		status, msg = reqErr.status, reqErr.msg
	case errors.Is(err, paste.ErrNotFound):
		status, msg = http.StatusNotFound, "no such paste"
	case errors.Is(err, paste.ErrTooLarge) && r.Method == http.MethodGet:
		// Stored by another server, or pushed to the remote directly.
		status, msg = http.StatusInternalServerError, "this paste is larger than this server serves"
	case errors.Is(err, paste.ErrGone):
		status, msg = http.StatusGone, "this paste is gone: it expired, was read once, or was deleted"
	case errors.Is(err, paste.ErrForbidden):
		status, msg = http.StatusForbidden, "wrong delete token"
	case errors.Is(err, paste.ErrTooLarge):
		status, msg = http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, paste.ErrInvalid):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, paste.ErrFull):
		status, msg = http.StatusInsufficientStorage, "the server's storage is full: it takes no new paste until its operator makes room"
	case errors.Is(err, paste.ErrUnavailable) && r.Method == http.MethodGet:
		status, msg = http.StatusServiceUnavailable, "storage unavailable, the paste could not be looked up; try again"
	case errors.Is(err, paste.ErrUnavailable) && r.Method == http.MethodPost && r.URL.Path == "/":
		status, msg = http.StatusServiceUnavailable, "storage unavailable, the paste was not saved; try again"
	case errors.Is(err, paste.ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, "storage unavailable; try again"
	}
	if status >= 500 {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		h.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// requestError is a refusal with its status and a message for the user.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(msg string) error { return &requestError{http.StatusBadRequest, msg} }
