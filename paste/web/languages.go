package web

//go:generate go run -C internal/langgen . -dir ../../static/vendor/hljs -out ../../languages_gen.go

import (
	"sort"
	"strings"
)

// Language is one language the bundled highlight.js highlights.
type Language struct {
	Name     string   // highlight.js's name, which hl takes: "go", "cpp"
	Title    string   // display name: "Go", "C++"
	Aliases  []string // other names hl takes: "golang"
	Requires []string // languages it embeds (HTML embeds CSS and JavaScript)
}

// Languages knows the names highlight.js gives languages. The zero value
// is not usable; see newLanguages.
type Languages struct {
	byName  map[string]*Language // names and aliases, lower case
	byTitle []Language           // every language, sorted by title
}

// newLanguages indexes the generated table.
func newLanguages() *Languages {
	ls := &Languages{byName: map[string]*Language{}}
	ls.byTitle = append([]Language(nil), languageTable...)
	sort.SliceStable(ls.byTitle, func(i, j int) bool {
		return strings.ToLower(ls.byTitle[i].Title) < strings.ToLower(ls.byTitle[j].Title)
	})
	for i := range ls.byTitle {
		l := &ls.byTitle[i]
		ls.byName[l.Name] = l
		for _, a := range l.Aliases {
			ls.byName[a] = l
		}
	}
	return ls
}

// Lookup returns the highlight.js name of the language called name or one
// of its aliases, ignoring case and surrounding space, and whether there is
// such a language. "" is no language.
func (ls *Languages) Lookup(name string) (string, bool) {
	l, ok := ls.byName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return "", false
	}
	return l.Name, true
}

// Title returns the display name of the language called name, or name.
func (ls *Languages) Title(name string) string {
	if l, ok := ls.byName[name]; ok {
		return l.Title
	}
	return name
}

// All returns every language, sorted by title.
func (ls *Languages) All() []Language { return ls.byTitle }

// Closure returns name and every language it embeds, recursively, in a
// stable order: the files a browser loads to highlight name.
func (ls *Languages) Closure(name string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		l, ok := ls.byName[n]
		if !ok || seen[l.Name] {
			return
		}
		seen[l.Name] = true
		out = append(out, l.Name)
		for _, r := range l.Requires {
			visit(r)
		}
	}
	visit(name)
	return out
}
