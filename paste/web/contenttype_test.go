package web

import (
	"mime"
	"testing"
)

// FuzzParseContentType: parseContentType reads any header as
// mime.ParseMediaType does, in the fast path too.
func FuzzParseContentType(f *testing.F) {
	for _, s := range []string{
		"multipart/form-data; boundary=b0undary",
		"multipart/form-data; boundary=------------------------d74496d66958873e",
		"multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
		"multipart/form-data; boundary=\"quoted boundary\"",
		"multipart/form-data; boundary=a b",
		"multipart/form-data; boundary=",
		"multipart/form-data; boundary=a;",
		"multipart/form-data; boundary=a; charset=utf-8",
		"multipart/form-data; boundary=a ",
		"multipart/form-data; boundary=\xc3\xa9",
		"Multipart/Form-Data; Boundary=x",
		"multipart/form-data; boundary*=utf-8''x",
		"application/x-www-form-urlencoded",
		"text/plain; charset=utf-8",
		"",
		";",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		mt, b, err := parseContentType(ct)
		wantMT, params, wantErr := mime.ParseMediaType(ct)
		if mt != wantMT || b != params["boundary"] || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("parseContentType(%q) = %q, %q, %v; mime.ParseMediaType: %q, %q, %v", ct, mt, b, err, wantMT, params["boundary"], wantErr)
		}
	})
}
