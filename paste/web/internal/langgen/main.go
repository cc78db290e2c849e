// Command langgen writes the website's language table from the bundled
// highlight.js: it runs the bundle's core and every language file in a
// JavaScript interpreter and asks highlight.js itself for each language's
// display name, aliases and embedded languages, so the table says exactly
// what the bundle knows.
//
// It is its own module so that the interpreter is not a dependency of
// pasteur. Run it through go generate in package web:
//
//	go generate ./paste/web/
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dop251/goja"
)

// language is what the generated table holds for one language.
type language struct {
	Name     string   `json:"-"`
	Title    string   `json:"title"`
	Aliases  []string `json:"aliases"`
	Requires []string `json:"requires"`
}

func main() {
	dir := flag.String("dir", "", "the vendored highlight.js `directory` (core.min.js, languages/, VERSION)")
	out := flag.String("out", "", "the Go `file` to write")
	pkg := flag.String("package", "web", "the Go package of the output")
	flag.Parse()
	if *dir == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: langgen -dir VENDOR/hljs -out FILE.go")
		os.Exit(2)
	}
	langs, version, err := load(*dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "langgen: %v\n", err)
		os.Exit(1)
	}
	src, err := render(*pkg, version, langs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "langgen: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "langgen: %v\n", err)
		os.Exit(1)
	}
}

// describe is run for each language after it is registered: it reports the
// language's name and aliases, and every subLanguage its modes name.
const describe = `(function (key) {
	const l = hljs.getLanguage(key);
	const seen = new Set(), subs = new Set();
	const walk = (m) => {
		if (!m || typeof m !== "object" || seen.has(m)) return;
		seen.add(m);
		if (typeof m.subLanguage === "string") subs.add(m.subLanguage);
		if (Array.isArray(m.subLanguage)) m.subLanguage.forEach((s) => subs.add(s));
		for (const k of Object.keys(m)) walk(m[k]);
	};
	walk(l);
	subs.delete(key);
	return JSON.stringify({title: l.name || key, aliases: l.aliases || [], requires: [...subs].sort()});
})`

// load runs the bundle and describes each of its languages.
func load(dir string) ([]language, string, error) {
	version, err := os.ReadFile(filepath.Join(dir, "VERSION"))
	if err != nil {
		return nil, "", err
	}
	core, err := os.ReadFile(filepath.Join(dir, "core.min.js"))
	if err != nil {
		return nil, "", err
	}
	vm := goja.New()
	// The ES module build ends in an export statement the interpreter
	// does not take; bind the default export to a global instead.
	coreSrc, ok := replaceLast(string(core), "export{te as default};", "var hljs=te;")
	if !ok {
		return nil, "", fmt.Errorf("core.min.js: no default export found (new highlight.js build layout?)")
	}
	if _, err := vm.RunString(coreSrc); err != nil {
		return nil, "", fmt.Errorf("core.min.js: %w", err)
	}
	describeFn, err := vm.RunString(describe)
	if err != nil {
		return nil, "", err
	}
	call, _ := goja.AssertFunction(describeFn)
	files, err := filepath.Glob(filepath.Join(dir, "languages", "*.min.js"))
	if err != nil || len(files) == 0 {
		return nil, "", fmt.Errorf("no languages/*.min.js in %s", dir)
	}
	sort.Strings(files)
	var langs []language
	for _, f := range files {
		key := strings.TrimSuffix(filepath.Base(f), ".min.js")
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, "", err
		}
		s, ok := replaceLast(string(src), "export default hljsGrammar;", fmt.Sprintf("hljs.registerLanguage(%q,hljsGrammar);", key))
		if !ok {
			return nil, "", fmt.Errorf("%s: no default export found", f)
		}
		// Each file declares var hljsGrammar: run it in its own scope.
		if _, err := vm.RunString("(function(){" + s + "})();"); err != nil {
			return nil, "", fmt.Errorf("%s: %w", f, err)
		}
		v, err := call(goja.Undefined(), vm.ToValue(key))
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f, err)
		}
		l := language{Name: key}
		if err := json.Unmarshal([]byte(v.String()), &l); err != nil {
			return nil, "", fmt.Errorf("%s: %w", f, err)
		}
		langs = append(langs, l)
	}
	dropAmbiguous(langs)
	return langs, strings.TrimSpace(string(version)), nil
}

// dropAmbiguous removes aliases that name more than one language or that
// are another language's name, and requirements that are not in the bundle.
func dropAmbiguous(langs []language) {
	count := map[string]int{}
	names := map[string]bool{}
	for _, l := range langs {
		names[l.Name] = true
		count[l.Name]++
		for _, a := range l.Aliases {
			count[strings.ToLower(a)]++
		}
	}
	for i := range langs {
		var keep []string
		for _, a := range langs[i].Aliases {
			if a = strings.ToLower(a); count[a] == 1 && a != langs[i].Name {
				keep = append(keep, a)
			}
		}
		langs[i].Aliases = keep
		var reqs []string
		for _, r := range langs[i].Requires {
			if names[r] {
				reqs = append(reqs, r)
			}
		}
		langs[i].Requires = reqs
	}
}

func replaceLast(s, old, repl string) (string, bool) {
	i := strings.LastIndex(s, old)
	if i < 0 {
		return s, false
	}
	return s[:i] + repl + s[i+len(old):], true
}

// render writes the Go source of the table.
func render(pkg, version string, langs []language) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by paste/web/internal/langgen from highlight.js %s; DO NOT EDIT.\n\n", version)
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	fmt.Fprintf(&b, "// hljsVersion is the version of the bundled highlight.js.\n")
	fmt.Fprintf(&b, "const hljsVersion = %q\n\n", version)
	fmt.Fprintf(&b, "// languageTable lists every language the bundled highlight.js knows, by\n")
	fmt.Fprintf(&b, "// file name under static/vendor/hljs/languages. Aliases shared by\n")
	fmt.Fprintf(&b, "// two languages are left out.\n")
	fmt.Fprintf(&b, "var languageTable = []Language{\n")
	for _, l := range langs {
		fmt.Fprintf(&b, "\t{Name: %q, Title: %q", l.Name, l.Title)
		if len(l.Aliases) > 0 {
			fmt.Fprintf(&b, ", Aliases: %#v", l.Aliases)
		}
		if len(l.Requires) > 0 {
			fmt.Fprintf(&b, ", Requires: %#v", l.Requires)
		}
		fmt.Fprintf(&b, "},\n")
	}
	fmt.Fprintf(&b, "}\n")
	return format.Source(b.Bytes())
}
