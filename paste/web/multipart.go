package web

import (
	"bytes"
)

// A multipart/form-data body is read whole (it is bounded by the paste
// limit and the framing) and split here in place: the paste is a slice
// of the body, with no reader per part, no header map and no copy. Only
// the shape browsers, curl -F and Go's multipart.Writer send is taken:
//
//	--B CRLF (Name: value CRLF)* CRLF content CRLF --B CRLF ... CRLF --B-- [CRLF ...]
//
// with Content-Disposition: form-data; name="n" [; filename="f"] (quoted,
// no backslash). Anything else (a preamble, bare LF line ends, folded or
// repeated headers, Content-Transfer-Encoding, another disposition
// syntax, padding after a boundary) is declined, and the caller reads
// the same bytes with mime/multipart, whose reading this matches where
// it takes a body (FuzzSplitMultipart compares the two).

// maxFastHeaders bounds the part headers splitMultipart reads; a body
// with more is left to mime/multipart and its own bound.
const maxFastHeaders = 256

// splitMultipart splits body, a multipart/form-data body with boundary,
// into its parts, calling part with each one's field name (empty when its
// Content-Disposition names none) and content, both slices of body; or
// reports ok false when body is not of the shape above (which does not
// mean it is malformed), maybe after some calls, whose effect the caller
// then undoes. Nothing is kept per part: a part is as little as nine
// bytes of body.
func splitMultipart(body []byte, boundary string, part func(name, value []byte)) (ok bool) {
	if boundary == "" || !bytes.HasPrefix(body, []byte("--")) || !bytes.HasPrefix(body[2:], []byte(boundary)) {
		return false
	}
	rest := body[2+len(boundary):]
	if !bytes.HasPrefix(rest, []byte("\r\n")) {
		return false
	}
	rest = rest[2:]
	headers := 0
	for {
		// The part's headers, up to an empty line.
		var name []byte
		haveName := false
		for {
			end := bytes.Index(rest, []byte("\r\n"))
			if end < 0 {
				return false
			}
			line := rest[:end]
			rest = rest[end+2:]
			if len(line) == 0 {
				break
			}
			if headers++; headers > maxFastHeaders {
				return false
			}
			key, value, ok := headerLine(line)
			if !ok {
				return false
			}
			switch {
			case bytes.EqualFold(key, []byte("Content-Disposition")):
				if haveName {
					return false
				}
				if name, ok = formDataName(value); !ok {
					return false
				}
				haveName = true
			case bytes.EqualFold(key, []byte("Content-Transfer-Encoding")):
				return false
			}
		}
		// The content, up to CRLF --boundary followed by CRLF (another
		// part) or -- (the last). Content that starts with --boundary
		// (no CRLF before it) is read as empty by mime/multipart.
		if bytes.HasPrefix(rest, []byte("--")) && bytes.HasPrefix(rest[2:], []byte(boundary)) {
			return false
		}
		from := 0
		for {
			i := bytes.Index(rest[from:], []byte("\r\n--"))
			if i < 0 {
				return false
			}
			i += from
			after := rest[i+4:]
			if !bytes.HasPrefix(after, []byte(boundary)) {
				from = i + 1
				continue
			}
			after = after[len(boundary):]
			switch {
			case bytes.HasPrefix(after, []byte("\r\n")):
				part(name, rest[:i:i])
				rest = after[2:]
			case bytes.HasPrefix(after, []byte("--")):
				// The last boundary: its line ends the body or
				// with CRLF; what comes after is not read.
				if tail := after[2:]; len(tail) != 0 && !bytes.HasPrefix(tail, []byte("\r\n")) {
					return false
				}
				part(name, rest[:i:i])
				return true
			case len(after) == 0 || after[0] == ' ' || after[0] == '\t' || after[0] == '\r' || after[0] == '\n' || after[0] == '-':
				// A boundary with padding, a bare LF, or cut
				// short: mime/multipart's to judge.
				return false
			default:
				// --boundary followed by more: content.
				from = i + 1
				continue
			}
			break
		}
	}
}

// headerLine splits a part's header line "Name: value" whose name is
// letters, digits and dashes and whose value is printable ASCII or tabs,
// the value trimmed as textproto trims it; both are slices of line.
func headerLine(line []byte) (key, value []byte, ok bool) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return nil, nil, false
	}
	for _, c := range line[:colon] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return nil, nil, false
		}
	}
	for _, c := range line[colon+1:] {
		if (c < 0x20 || c > 0x7e) && c != '\t' {
			return nil, nil, false
		}
	}
	return line[:colon], bytes.Trim(line[colon+1:], " \t"), true
}

// formDataName reads a Content-Disposition of the form
// form-data; name="n" [; filename="f"] (either order, the type and
// parameter names in any case, no backslash nor quote inside the
// quotes) and returns n, a slice of v.
func formDataName(v []byte) (name []byte, ok bool) {
	typ, params, _ := bytes.Cut(v, []byte(";"))
	if !bytes.EqualFold(bytes.TrimRight(typ, " \t"), []byte("form-data")) {
		return nil, false
	}
	var haveName, haveFile bool
	for len(params) != 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte(";"))
		k, q, found := bytes.Cut(bytes.Trim(p, " \t"), []byte("="))
		if !found || len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
			return nil, false
		}
		q = q[1 : len(q)-1]
		if bytes.ContainsAny(q, "\"\\;") {
			return nil, false
		}
		switch {
		case bytes.EqualFold(k, []byte("name")) && !haveName:
			name, haveName = q, true
		case bytes.EqualFold(k, []byte("filename")) && !haveFile:
			haveFile = true
		default:
			return nil, false
		}
	}
	return name, haveName
}
