package main

import (
	"flag"
	"strings"
)

// compatConfig is the part of the command line that the original pasteur
// had too, or that eases moving from it (issue 14).
type compatConfig struct {
	title       string
	subtitle    string
	jsonAnswers bool
}

// addFlags declares the flags on fs. -h, the original's short name for
// --hostname, is declared too: see helpAsked for how it is told from help.
func (c *compatConfig) addFlags(fs *flag.FlagSet, hostname *string) {
	fs.StringVar(&c.title, "title", "pasteur", "the `text` heading every page, as the original's --title")
	fs.StringVar(&c.subtitle, "subtitle", "paste text, share the link", "the `text` under the title on the form's page, as the original's --subtitle")
	fs.BoolVar(&c.jsonAnswers, "json-answers", false, "answer every POST / with JSON, as the original did ({\"code\",\"hl\",\"ln\",\"raw\"}, Access-Control-Allow-Origin: *), for its clients; without it JSON is for Accept: application/json or ?format=json")
	fs.StringVar(hostname, "h", "", "short for --hostname `name` when a name follows it; -h alone, or before another flag, is --help")
}

// helpAsked reports whether args ask for help with -h: the original used
// -h for --hostname, so -h is help only when no value follows it (it is
// the last argument, or the next one is a flag).
func helpAsked(args []string) bool {
	for i, a := range args {
		if a == "--" {
			return false
		}
		if a != "-h" && a != "--h" {
			continue
		}
		if i+1 == len(args) || strings.HasPrefix(args[i+1], "-") {
			return true
		}
	}
	return false
}
