package web

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"math"
	"mime/multipart"
	"runtime"
	"strings"
	"testing"

	"github.com/pasteur-dev/pasteur/paste"
)

// formPart is a part of a form body: its field name and its content.
type formPart struct {
	name  string
	value []byte
}

// split is splitMultipart's parts of body, in a list.
func split(body []byte, boundary string) ([]formPart, bool) {
	var parts []formPart
	ok := splitMultipart(body, boundary, func(name, value []byte) {
		parts = append(parts, formPart{string(name), value})
	})
	return parts, ok
}

// stdParts reads body with mime/multipart as readParts does: each part's
// form name and content, or an error.
func stdParts(body []byte, boundary string) ([]formPart, error) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var parts []formPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, formPart{p.FormName(), v})
	}
}

// sameParts fails t when splitMultipart takes body and mime/multipart
// reads it otherwise.
func sameParts(t *testing.T, body []byte, boundary string) bool {
	t.Helper()
	got, ok := split(body, boundary)
	if !ok {
		return false
	}
	want, err := stdParts(body, boundary)
	if err != nil {
		t.Fatalf("split %q (boundary %q) into %q; mime/multipart: %v", body, boundary, got, err)
	}
	if len(got) != len(want) {
		t.Fatalf("split %q (boundary %q) into %q; mime/multipart: %q", body, boundary, got, want)
	}
	for i := range got {
		if got[i].name != want[i].name || !bytes.Equal(got[i].value, want[i].value) {
			t.Fatalf("split %q (boundary %q) into %q; mime/multipart: %q", body, boundary, got, want)
		}
	}
	return true
}

// sameRead fails t when readParts, which reads the paste into the
// body's own bytes, reads body otherwise than mime/multipart into a
// buffer of each part.
func sameRead(t *testing.T, body []byte, boundary string) {
	t.Helper()
	want, werr := stdParts(body, boundary)
	wantFields := map[string]string{}
	var wantText []byte
	wantHave := false
	for _, p := range want {
		switch {
		case p.name == "paste":
			wantText, wantHave = p.value, true
		case len(p.value) > maxField:
			return // refused by readParts, read by stdParts
		case p.name != "":
			wantFields[p.name] = string(p.value)
		}
	}
	fields := map[string]string{}
	text, have, err := readParts(bytes.Clone(body), boundary, math.MaxInt32, fields)
	if (err != nil) != (werr != nil) {
		t.Fatalf("read %q (boundary %q): %v; mime/multipart: %v", body, boundary, err, werr)
	}
	if err != nil {
		return
	}
	if have != wantHave || !bytes.Equal(text, wantText) || !maps.Equal(fields, wantFields) {
		t.Fatalf("read %q (boundary %q) as %v %q %q; mime/multipart: %v %q %q", body, boundary, have, text, fields, wantHave, wantText, wantFields)
	}
}

// writerBody is a body as Go's multipart.Writer (and so curl -F and the
// browsers, in shape) writes it.
func writerBody(t testing.TB, fields ...string) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i] == "paste" {
			fw, _ := mw.CreateFormFile("paste", "paste.txt")
			fw.Write([]byte(fields[i+1]))
			continue
		}
		mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	return b.Bytes(), mw.Boundary()
}

func TestSplitMultipartTakesTheUsualShape(t *testing.T) {
	for _, fields := range [][]string{
		{"paste", "x"},
		{"paste", ""},
		{"paste", "a\r\n--not the boundary\r\n"},
		{"hl", "go", "paste", "line 1\r\nline 2\n", "ln", "on", "user", "ann"},
		{"paste", "1", "paste", "2"},
	} {
		body, boundary := writerBody(t, fields...)
		if !sameParts(t, body, boundary) {
			t.Errorf("%q: declined %q", fields, body)
		}
	}
	for _, tt := range []struct{ body, boundary string }{
		// A browser's boundary, and header case.
		{"------WebKitFormBoundaryAbC\r\ncontent-disposition: Form-Data; NAME=\"paste\"\r\n\r\nhi\r\n------WebKitFormBoundaryAbC--", "----WebKitFormBoundaryAbC"},
		// Spaces, a trailing semicolon, other headers, parameters in
		// either order, the last boundary without its CRLF.
		{"--b\r\nContent-Disposition: form-data ; name=\"paste\";\r\nX-A:\t v \r\n\r\nx\r\n--b\r\nContent-Disposition: form-data; filename=\"f\"; name=\"hl\"\r\n\r\ngo\r\n--b--", "b"},
		// A part without a disposition, and an epilogue.
		{"--b\r\n\r\nx\r\n--b--\r\nepilogue", "b"},
	} {
		if !sameParts(t, []byte(tt.body), tt.boundary) {
			t.Errorf("declined %q", tt.body)
		}
	}
}

func TestSplitMultipartDeclinesOtherShapes(t *testing.T) {
	for _, body := range []string{
		"preamble\r\n--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\n\r\nx\r\n--zz--\r\n",
		"--zz\nContent-Disposition: form-data; name=\"paste\"\n\nx\n--zz--\n",
		"--zz\r\nContent-Disposition: form-data;\r\n name=\"paste\"\r\n\r\nx\r\n--zz--\r\n",
		"--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx=3D\r\n--zz--\r\n",
		"--zz\r\nContent-Disposition: form-data; name=paste\r\n\r\nx\r\n--zz--\r\n",
		"--zz\r\nContent-Disposition: form-data; name=\"pa\\\"ste\"\r\n\r\nx\r\n--zz--\r\n",
		"--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\nContent-Disposition: form-data; name=\"hl\"\r\n\r\nx\r\n--zz--\r\n",
		"--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\n\r\nx\r\n--zz  \r\n",
		"--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\n\r\nx\r\n--zz--garbage",
		"--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\n\r\nx",
		"--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\n\r\n--zz--\r\n",
		"garbage",
	} {
		if _, ok := split([]byte(body), "zz"); ok {
			t.Errorf("took %q", body)
		}
	}
}

// FuzzSplitMultipart: whatever body splitMultipart takes, mime/multipart
// reads into the same parts (what it declines is read by mime/multipart
// itself, so that the two paths answer alike).
func FuzzSplitMultipart(f *testing.F) {
	for _, fields := range [][]string{
		{"paste", "x"},
		{"hl", "go", "paste", "a\r\n--b\r\n", "ln", "on"},
		{"paste", "", "", "x"},
	} {
		body, boundary := writerBody(f, fields...)
		f.Add(body, boundary)
	}
	f.Add([]byte("--zz\r\nContent-Disposition: form-data; name=\"paste\"; filename=\"a\"\r\nContent-Type: text/plain\r\n\r\nx\r\n--zz--"), "zz")
	f.Add([]byte("--zz\r\ncontent-disposition:form-data;name=\"\";\r\n\r\n\r\n--zz\r\n\r\n\r\n--zz--\r\nepilogue"), "zz")
	f.Add([]byte("--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\n\r\na\r\n--zzz\r\n--zz-x\r\n--zz--\r\n"), "zz")
	f.Add([]byte("--\r\n\r\n\r\n----\r\n"), "")
	f.Add([]byte("--b\r\nContent-Disposition: form-data ; name=\"paste\";\r\nX-A:\t v \r\n\r\nx\r\n--b\r\nContent-Disposition: form-data; filename=\"f\"; name=\"hl\"\r\n\r\ngo\r\n--b--"), "b")
	// Declined: bare LF line ends, a preamble and quoted-printable, a
	// paste read twice.
	f.Add([]byte("--zz\nContent-Disposition: form-data; name=\"paste\"\n\n1\n--zz\nContent-Disposition: form-data; name=\"paste\"\n\n22\n--zz--\n"), "zz")
	f.Add([]byte("pre\r\n--zz\r\nContent-Disposition: form-data; name=\"paste\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=3D=\r\nx\r\n--zz--\r\n"), "zz")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		if strings.ContainsAny(boundary, "\r\n") {
			// A header value (the request's Content-Type) holds no
			// line end.
			return
		}
		if !sameParts(t, body, boundary) {
			sameRead(t, body, boundary)
		}
	})
}

// A body of many small parts (each of nine bytes: CRLF --b CRLF CRLF)
// costs what reading the body costs, and no record of each part: the
// splitter keeps nothing per part, as mime/multipart did not.
func TestReadMultipartManyPartsKeepsNoPartRecords(t *testing.T) {
	var b strings.Builder
	b.WriteString("--b\r\nContent-Disposition: form-data; name=\"paste\"\r\n\r\nx")
	for b.Len() < 1<<20 {
		b.WriteString("\r\n--b\r\n\r\n")
	}
	b.WriteString("\r\n--b--\r\n")
	body := []byte(b.String())
	limit := int64(len(body))
	read := allocated(func() {
		if _, err := readLimited(bytes.NewReader(body), limit, limit); err != nil {
			t.Fatal(err)
		}
	})
	split := allocated(func() {
		text, ok, err := readMultipart(bytes.NewReader(body), "b", limit, limit, limit, map[string]string{})
		if err != nil || !ok || string(text) != "x" {
			t.Fatalf("read %q, %v, %v", text, ok, err)
		}
	})
	t.Logf("a body of %d bytes: read in %d bytes allocated, split in %d", len(body), read, split)
	if split > read+uint64(len(body))/4 {
		t.Errorf("a body of %d bytes: read in %d bytes allocated, split in %d", len(body), read, split)
	}
}

// A body the splitter declines (here for its bare LF line ends) is read
// by mime/multipart from the body already read: its paste costs no
// second buffer of its size.
func TestReadMultipartDeclinedKeepsNoSecondCopy(t *testing.T) {
	text := strings.Repeat("0123456789abcde\n", 1<<16)
	body := []byte("--b\nContent-Disposition: form-data; name=\"hl\"\n\ngo\n--b\nContent-Disposition: form-data; name=\"paste\"\n\n" + text + "\n--b--\n")
	if _, ok := split(body, "b"); ok {
		t.Fatal("the splitter took a body of bare LF line ends")
	}
	limit := int64(len(body))
	read := allocated(func() {
		if _, err := readLimited(bytes.NewReader(body), limit, limit); err != nil {
			t.Fatal(err)
		}
	})
	parts := allocated(func() {
		fields := map[string]string{}
		got, ok, err := readMultipart(bytes.NewReader(body), "b", limit, limit, limit, fields)
		if err != nil || !ok || string(got) != text || fields["hl"] != "go" {
			t.Fatalf("read %d bytes, %v, %v, fields %q", len(got), ok, err, fields)
		}
	})
	t.Logf("a body of %d bytes: read in %d bytes allocated, read with mime/multipart in %d", len(body), read, parts)
	if parts > read+uint64(len(body))/4 {
		t.Errorf("a body of %d bytes: read in %d bytes allocated, read with mime/multipart in %d", len(body), read, parts)
	}
}

// allocated is the least of three runs' bytes allocated by f.
func allocated(f func()) uint64 {
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

func TestReadPartsInPlace(t *testing.T) {
	for _, body := range []string{
		"--b\nContent-Disposition: form-data; name=\"paste\"\n\n1\n--b\nContent-Disposition: form-data; name=\"paste\"\n\n22\n--b--\n",
		"pre\r\n--b\r\nContent-Disposition: form-data; name=\"paste\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=3D=3D=\r\nx\r\n--b\r\nContent-Disposition: form-data; name=\"hl\"\r\n\r\ngo\r\n--b--\r\n",
		"--b\nContent-Disposition: form-data; name=\"paste\"\n\n" + strings.Repeat("--b-\n", 5000) + "\n--b--\n",
	} {
		sameRead(t, []byte(body), "b")
	}
}

// BenchmarkReadMultipart: a small form as curl -F sends it.
func BenchmarkReadMultipart(b *testing.B) {
	body, boundary := writerBody(b, "hl", "go", "ln", "on", "user", "ann", "paste", strings.Repeat("some code\n", 100))
	b.ReportAllocs()
	for b.Loop() {
		fields := map[string]string{}
		if _, ok, err := readMultipart(bytes.NewReader(body), boundary, 1<<20, 1<<20, int64(len(body)), fields); err != nil || !ok {
			b.Fatal(err)
		}
	}
}

// A declined body whose paste is over the limit is refused without a
// second buffer of the paste's size either.
func TestReadMultipartDeclinedTooLargeKeepsNoSecondCopy(t *testing.T) {
	text := strings.Repeat("0123456789abcde\n", 1<<16)
	body := []byte("--b\nContent-Disposition: form-data; name=\"paste\"\n\n" + text + "\n--b--\n")
	limit := int64(len(body))
	read := allocated(func() {
		if _, err := readLimited(bytes.NewReader(body), limit, limit); err != nil {
			t.Fatal(err)
		}
	})
	parts := allocated(func() {
		_, _, err := readMultipart(bytes.NewReader(body), "b", int64(len(text))-1, limit, limit, map[string]string{})
		if !errors.Is(err, paste.ErrTooLarge) {
			t.Fatalf("a paste over the limit: %v", err)
		}
	})
	t.Logf("a body of %d bytes: read in %d bytes allocated, refused in %d", len(body), read, parts)
	if parts > read+uint64(len(body))/4 {
		t.Errorf("a body of %d bytes: read in %d bytes allocated, refused in %d", len(body), read, parts)
	}
}
