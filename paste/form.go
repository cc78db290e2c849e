package paste

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on the metadata fields; longer values are cut.
const (
	maxUser     = 64
	maxComment  = 256
	maxLanguage = 32
	maxField    = 4 << 10 // any form field but paste
)

// submission is a parsed POST /.
type submission struct {
	paste     []byte
	language  string
	lines     bool
	raw       bool
	encrypted bool
	user      string
	comment   string
}

// parseSubmission reads the form of the original pasteur: multipart/form-data
// (or a urlencoded form) with the fields paste, hl, ln, raw, encrypted, user
// and comment. hl, ln and raw may also be given in the query string.
func (h *Handler) parseSubmission(w http.ResponseWriter, r *http.Request) (*submission, error) {
	// Room for the other fields and the multipart framing around the paste.
	r.Body = http.MaxBytesReader(w, r.Body, h.maxSize+64<<10)
	fields := map[string]string{}
	var body []byte
	var havePaste bool
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil && r.Header.Get("Content-Type") == "":
		return nil, badRequest("missing Content-Type: send multipart/form-data with a field named paste (curl -F paste=@file)")
	case err != nil:
		return nil, badRequest("malformed Content-Type: " + err.Error())
	case mediaType == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, badRequest("multipart/form-data without a boundary")
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, formError(err)
			}
			name := part.FormName()
			limit := int64(maxField)
			if name == "paste" {
				limit = h.maxSize
			}
			v, err := readLimited(part, limit)
			if err != nil {
				if errors.Is(err, ErrTooLarge) && name != "paste" {
					return nil, badRequest(fmt.Sprintf("form field %q is longer than %d bytes", name, maxField))
				}
				return nil, formError(err)
			}
			if name == "paste" {
				body, havePaste = v, true
			} else if name != "" {
				fields[name] = string(v)
			}
		}
	case mediaType == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, formError(err)
		}
		for k := range r.PostForm {
			fields[k] = r.PostForm.Get(k)
		}
		if v, ok := r.PostForm["paste"]; ok {
			body, havePaste = []byte(v[0]), true
		}
		delete(fields, "paste")
	default:
		return nil, badRequest("unsupported Content-Type " + mediaType + ": send multipart/form-data with a field named paste (curl -F paste=@file)")
	}
	if !havePaste {
		return nil, badRequest("missing form field paste")
	}
	if int64(len(body)) > h.maxSize {
		return nil, fmt.Errorf("%w: the limit is %d bytes", ErrTooLarge, h.maxSize)
	}
	if len(body) == 0 {
		return nil, badRequest("the paste is empty")
	}
	if !utf8.Valid(body) {
		return nil, badRequest("the paste is not UTF-8 text")
	}
	q := r.URL.Query()
	pick := func(k string) string {
		if v, ok := fields[k]; ok {
			return v
		}
		return q.Get(k)
	}
	return &submission{
		paste:     body,
		language:  cleanLanguage(pick("hl")),
		lines:     isOn(pick("ln")),
		raw:       isOn(pick("raw")),
		encrypted: isOn(pick("encrypted")),
		user:      cleanText(pick("user"), maxUser),
		comment:   cleanText(pick("comment"), maxComment),
	}, nil
}

// readLimited reads r whole, or fails with ErrTooLarge past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: the limit is %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// formError turns a body read error into a refusal.
func formError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: the request body is over %d bytes", ErrTooLarge, mbe.Limit)
	}
	if errors.Is(err, ErrTooLarge) {
		return err
	}
	return badRequest("malformed form: " + err.Error())
}

// isOn reads a checkbox: "on" as browsers send it, or "true"/"1".
func isOn(v string) bool {
	switch strings.ToLower(v) {
	case "on", "true", "1", "yes":
		return true
	}
	return false
}

// cleanLanguage keeps a highlight.js language name: letters, digits and a
// few punctuation marks; anything else means no highlighting.
func cleanLanguage(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if len(v) > maxLanguage {
		return ""
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-_+.#", c)) {
			return ""
		}
	}
	return v
}

// cleanText makes a one-line value: control characters become spaces, runs
// of space collapse, and it is cut to max bytes on a rune boundary.
func cleanText(v string, max int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Join(strings.FieldsFunc(v, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }), " ")
	for len(v) > max {
		_, size := utf8.DecodeLastRuneInString(v)
		v = v[:len(v)-size]
	}
	return v
}
