package web

import (
	"mime"
	"strings"
)

// multipartPrefix is how browsers, curl -F and Go's multipart.Writer
// begin a form's Content-Type; the boundary follows.
const multipartPrefix = "multipart/form-data; boundary="

// parseContentType reads a request's Content-Type as mime.ParseMediaType
// does: the media type, in lower case, and the boundary parameter ("" when
// there is none). The usual form's header (multipartPrefix and a boundary
// of token characters) is read here without the parameter map; any other
// header goes to mime.ParseMediaType.
func parseContentType(ct string) (mediaType, boundary string, err error) {
	if b, ok := strings.CutPrefix(ct, multipartPrefix); ok && isToken(b) {
		return "multipart/form-data", b, nil
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	return mediaType, params["boundary"], err
}

// isToken reports whether s is a non-empty token of RFC 2045 (what
// mime.ParseMediaType takes as a parameter value without quotes):
// printable ASCII but space and the tspecials.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}
