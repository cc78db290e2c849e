package web

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
)

// TestLanguageTableMatchesBundle checks the generated table against the
// vendored files: run go generate ./paste/web/ after updating highlight.js.
func TestLanguageTableMatchesBundle(t *testing.T) {
	files, err := fs.Glob(assets, "static/vendor/hljs/languages/*.min.js")
	if err != nil || len(files) < 150 {
		t.Fatalf("%d language files: %v", len(files), err)
	}
	if len(files) != len(languageTable) {
		t.Fatalf("%d language files, %d in the table: run go generate ./paste/web/", len(files), len(languageTable))
	}
	for _, l := range languageTable {
		if !slices.Contains(files, "static/vendor/hljs/languages/"+l.Name+".min.js") {
			t.Errorf("%s is in the table but not in the bundle", l.Name)
		}
		if l.Title == "" {
			t.Errorf("%s has no title", l.Name)
		}
	}
	v, err := fs.ReadFile(assets, "static/vendor/hljs/VERSION")
	if err != nil || string(v) != hljsVersion+"\n" {
		t.Errorf("bundle VERSION %q, table from %s", v, hljsVersion)
	}
	if _, err := fs.Stat(assets, "static/vendor/hljs/LICENSE"); err != nil {
		t.Error("the bundle's LICENSE is missing")
	}
}

func TestLanguages(t *testing.T) {
	ls := newLanguages()
	for in, want := range map[string]string{
		"go": "go", "Go": "go", "golang": "go", " JS ": "javascript", "c++": "cpp",
		"html": "xml", "yml": "yaml", "sh": "bash", "": "", "klingon": "",
		"ml": "", // shared by OCaml and SML: dropped
	} {
		got, ok := ls.Lookup(in)
		if got != want || ok != (want != "") {
			t.Errorf("Lookup(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got := ls.Closure("php-template"); !slices.Equal(got[:2], []string{"php-template", "php"}) || !slices.Contains(got, "xml") {
		t.Errorf("Closure(php-template) = %v", got)
	}
	if got := ls.Closure("nosuch"); len(got) != 0 {
		t.Errorf("Closure(nosuch) = %v", got)
	}
	all := ls.All()
	for i := 1; i < len(all); i++ {
		if strings.ToLower(all[i-1].Title) > strings.ToLower(all[i].Title) {
			t.Fatalf("All is not sorted by title at %s, %s", all[i-1].Title, all[i].Title)
		}
	}
	if ls.Title("cpp") != "C++" {
		t.Errorf("Title(cpp) = %q", ls.Title("cpp"))
	}
}
