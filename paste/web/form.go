package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/seal"
)

// Bounds on the metadata fields; longer values are cut.
const (
	maxUser     = 64
	maxComment  = 256
	maxLanguage = 32
	maxField    = 4 << 10 // any form field but paste
	maxFraming  = 64 << 10
	maxPrealloc = 64 << 10 // see readLimited
)

// submission is a parsed POST /.
type submission struct {
	paste     []byte
	language  string // a highlight.js name, or "" (unknown names are dropped)
	lines     bool
	raw       bool
	encrypted bool
	user      string
	comment   string
	life      lifeOptions
	query     url.Values // the request's, parsed once (nil: none)
}

// parseSubmission reads a POST /. The paste is, by the request's
// Content-Type:
//   - multipart/form-data: the field paste;
//   - application/x-www-form-urlencoded: the field paste, when the body is a
//     form of the original's fields (paste, hl, ln, raw, encrypted, user,
//     comment) and expire, burn, that names paste; otherwise the whole body, as
//     curl --data-binary @file sends it;
//   - anything else, or none: the whole body.
//
// The other fields may also be given in the query string (a form field
// wins). An encrypted paste must be a seal envelope; --max-size bounds the
// text, which for an encrypted paste is what the envelope holds.
func (h *Handler) parseSubmission(w http.ResponseWriter, r *http.Request) (*submission, error) {
	pasteLimit := h.pasteLimit
	fields := map[string]string{}
	var body []byte
	havePaste := true
	ct := r.Header.Get("Content-Type")
	mediaType, boundary, err := parseContentType(ct)
	if err != nil && ct != "" {
		return nil, badRequest("malformed Content-Type: " + err.Error())
	}
	// One rule, whatever the encoding: the limit is on the paste as
	// stored, and a body longer than the largest encoding of such a paste
	// (with the form's framing) is refused before it is read.
	bodyLimit := pasteLimit
	switch mediaType {
	case "multipart/form-data":
		bodyLimit = pasteLimit + maxFraming
	case "application/x-www-form-urlencoded":
		bodyLimit = 3*pasteLimit + maxFraming // %XX for every byte
	}
	if r.ContentLength > bodyLimit {
		return nil, fmt.Errorf("%w: the request body is over %d bytes", paste.ErrTooLarge, bodyLimit)
	}
	over := &overLimit{ReadCloser: http.MaxBytesReader(w, r.Body, bodyLimit)}
	r.Body = over
	switch mediaType {
	case "multipart/form-data":
		body, havePaste, err = readMultipart(r.Body, boundary, pasteLimit, bodyLimit, r.ContentLength, fields)
	case "application/x-www-form-urlencoded":
		body, err = readLimited(r.Body, bodyLimit, r.ContentLength)
		if err == nil {
			if form, ok := asForm(body); ok {
				for k := range form {
					fields[k] = form.Get(k)
				}
				body = []byte(form.Get("paste"))
				delete(fields, "paste")
			}
		}
	default:
		body, err = readLimited(r.Body, pasteLimit, r.ContentLength)
	}
	if over.hit {
		// Whatever error the parser made of it (a multipart reader
		// reports a cut header as malformed).
		return nil, fmt.Errorf("%w: the request body is over %d bytes", paste.ErrTooLarge, bodyLimit)
	}
	if err != nil {
		return nil, formError(err)
	}
	if !havePaste {
		return nil, badRequest("missing form field paste")
	}
	q := query(r)
	pickOK := func(k string) (string, bool) {
		if v, ok := fields[k]; ok {
			return v, true
		}
		return q.Get(k), q.Has(k)
	}
	pick := func(k string) string {
		v, _ := pickOK(k)
		return v
	}
	// ln and raw are on when present without a value, as the original
	// read them.
	flag := func(k string) bool {
		if v, ok := fields[k]; ok {
			return v == "" || isOn(v)
		}
		return queryOn(q, k)
	}
	sub := &submission{
		paste:     body,
		language:  h.language(pick("hl")),
		lines:     flag("ln"),
		raw:       flag("raw"),
		encrypted: isOn(pick("encrypted")),
		user:      cleanUser(pick("user"), maxUser),
		comment:   cleanText(pick("comment"), maxComment),
		query:     q,
	}
	if name, ok := h.authUser(r); ok {
		sub.user = cleanUser(name, maxUser)
	} else if sub.user == "" && strings.TrimSpace(pick("user")) != "" {
		return nil, badRequest("the user name holds no character that can be shown: leave it empty to paste anonymously")
	}
	if err := h.checkPaste(sub); err != nil {
		return nil, err
	}
	if sub.life, err = h.parseLife(pickOK, h.now()); err != nil {
		return nil, err
	}
	return sub, nil
}

// overLimit notes that a body reached its http.MaxBytesReader's limit.
type overLimit struct {
	io.ReadCloser
	hit bool
}

func (o *overLimit) Read(p []byte) (int, error) {
	n, err := o.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		// Declared here: errors.As moves it to the heap, where it
		// would be allocated at each Read.
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			o.hit = true
		}
	}
	return n, err
}

// authUser is the name the request was authenticated as, if any.
func (h *Handler) authUser(r *http.Request) (string, bool) {
	if h.user == nil {
		return "", false
	}
	return h.user(r)
}

// checkPaste enforces the size limit and what a paste must be: UTF-8 text,
// or for an encrypted paste a seal envelope.
func (h *Handler) checkPaste(sub *submission) error {
	size := len(sub.paste)
	if sub.encrypted {
		env, err := seal.Parse(string(sub.paste))
		if err != nil {
			return badRequest("an encrypted paste must be encrypted by the client (the page script, or pasteur put --encrypt): " + err.Error())
		}
		size = env.PlaintextLen()
	}
	if int64(size) > h.maxSize {
		return fmt.Errorf("%w: the limit is %d bytes", paste.ErrTooLarge, h.maxSize)
	}
	if size == 0 {
		return badRequest("the paste is empty")
	}
	if !utf8.Valid(sub.paste) {
		return badRequest("the paste is not UTF-8 text")
	}
	return nil
}

// readMultipart reads a multipart/form-data body of length bytes (-1:
// unknown, at most bodyLimit): the paste field (up to pasteLimit bytes)
// and the other fields into fields. The body is read whole and split in
// place (multipart.go); a body of another shape than the usual one is
// read by mime/multipart.
func readMultipart(r io.Reader, boundary string, pasteLimit, bodyLimit, length int64, fields map[string]string) (text []byte, havePaste bool, err error) {
	if boundary == "" {
		return nil, false, badRequest("multipart/form-data without a boundary")
	}
	body, err := readLimited(r, bodyLimit, length)
	if err != nil {
		return nil, false, err
	}
	var tooLarge error
	ok := splitMultipart(body, boundary, func(name, value []byte) {
		isPaste := string(name) == "paste"
		limit := int64(maxField)
		if isPaste {
			limit = pasteLimit
		}
		switch {
		case tooLarge != nil:
		case int64(len(value)) > limit:
			tooLarge = fieldTooLarge(string(name), limit)
		case isPaste:
			text, havePaste = value, true
		case len(name) != 0:
			fields[string(name)] = string(value)
		}
	})
	if !ok {
		clear(fields)
		return readParts(body, boundary, pasteLimit, fields)
	}
	if tooLarge != nil {
		return nil, false, tooLarge
	}
	return text, havePaste, nil
}

// readParts reads the parts of a multipart/form-data body with
// mime/multipart: the paste field (up to pasteLimit bytes) and the other
// fields into fields. The paste is read into body's own bytes, from the
// start: the nth byte of a part's content comes from the nth byte of body
// or a later one (a quoted-printable decoding only shortens it), which
// the multipart reader has read from body into its buffer before it
// hands it on, so only bytes read already are written over, and the
// paste costs no second buffer of its size.
func readParts(body []byte, boundary string, pasteLimit int64, fields map[string]string) (text []byte, havePaste bool, err error) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return text, havePaste, nil
		}
		if err != nil {
			return nil, false, err
		}
		name := part.FormName()
		limit := int64(maxField)
		var v []byte
		if name == "paste" {
			limit = pasteLimit
			v, err = readInto(io.LimitReader(part, limit+1), body[:0:min(int64(len(body)), limit+1)])
		} else {
			v, err = readAll(io.LimitReader(part, limit+1), 512)
		}
		if err == nil && int64(len(v)) > limit {
			err = fmt.Errorf("%w: the request body is over %d bytes", paste.ErrTooLarge, limit)
		}
		if err != nil {
			if errors.Is(err, paste.ErrTooLarge) {
				return nil, false, fieldTooLarge(name, limit)
			}
			return nil, false, err
		}
		if name == "paste" {
			text, havePaste = v, true
		} else if name != "" {
			fields[name] = string(v)
		}
	}
}

// fieldTooLarge is the refusal of a form field over its limit: the paste
// is too large (413), another field is a bad request.
func fieldTooLarge(name string, limit int64) error {
	if name != "paste" {
		return badRequest(fmt.Sprintf("form field %q is longer than %d bytes", name, maxField))
	}
	return fmt.Errorf("%w: the request body is over %d bytes", paste.ErrTooLarge, limit)
}

// asForm reads body as a urlencoded form of the original's fields with a
// paste field; ok is false when it is not one, and body is then the paste.
func asForm(body []byte) (url.Values, bool) {
	form, err := url.ParseQuery(string(body))
	if err != nil || !form.Has("paste") {
		return nil, false
	}
	for k := range form {
		if !isFormField(k) {
			return nil, false
		}
	}
	return form, true
}

// isFormField reports whether k is a field of the original pasteur's form.
func isFormField(k string) bool {
	switch k {
	case "paste", "hl", "ln", "raw", "encrypted", "user", "comment", "expire", "burn":
		return true
	}
	return false
}

// readLimited reads r whole, or fails with ErrTooLarge past limit bytes;
// size, when not -1, is how long r is at most (a request's length): up
// to maxPrealloc, it is read into one buffer of that size rather than one
// grown step by step (a length the client only claims reserves no more).
func readLimited(r io.Reader, limit, size int64) ([]byte, error) {
	b, err := readAll(io.LimitReader(r, limit+1), min(size, limit, maxPrealloc)+1)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: the request body is over %d bytes", paste.ErrTooLarge, limit)
	}
	return b, nil
}

// formError turns a body read error into a refusal.
func formError(err error) error {
	var mbe *http.MaxBytesError
	var reqErr *requestError
	switch {
	case errors.As(err, &mbe):
		return fmt.Errorf("%w: the request body is over %d bytes", paste.ErrTooLarge, mbe.Limit)
	case errors.Is(err, paste.ErrTooLarge), errors.As(err, &reqErr):
		return err
	}
	return badRequest("malformed form: " + err.Error())
}

// isOn reads a checkbox: "on" as browsers send it, or "true"/"1"/"yes".
func isOn(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "1", "yes":
		return true
	}
	return false
}

// queryOn reads an option of the query string: on when present with no
// value (?raw, as the original's links and habits write it), or with a
// value isOn takes; ?raw=false is off.
func queryOn(q url.Values, k string) bool {
	v, ok := q[k]
	return ok && len(v) > 0 && (v[0] == "" || isOn(v[0]))
}

// language returns the highlight.js name for hl, a name or an alias in
// any case; "" for none or for a language the bundle does not know, which
// is dropped rather than refused.
func (h *Handler) language(hl string) string {
	if len(hl) > maxLanguage {
		return ""
	}
	name, _ := h.langs.Lookup(hl)
	return name
}

// readAll is io.ReadAll starting with a buffer of size bytes (at least
// 512).
func readAll(r io.Reader, size int64) ([]byte, error) {
	return readInto(r, make([]byte, 0, max(size, 512)))
}

// readInto is io.ReadAll appending to b, in its capacity as long as
// that holds what r has.
func readInto(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
