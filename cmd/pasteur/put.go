package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pasteur-dev/pasteur/client"
	"github.com/pasteur-dev/pasteur/paste"
)

const putUsage = `Usage: pasteur put [flags] [FILE|-]

Pastes FILE (standard input without one, or with -) to a pasteur server and
prints the paste's URL, and on standard error the token that deletes it,
with the command that does (echo TOKEN | pasteur delete 'URL': the token
goes on standard input, where other users of the machine cannot read it
as they can a command line in the process list). With --encrypt the text
is encrypted here, in the format the web page uses, and the key is put in
the URL's fragment (#KEY): the server never sees it.

Flags (-name and --name both work; they may follow FILE):
`

// runPut is pasteur put.
func runPut(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("put", putUsage, stdout)
	var cf clientFlags
	cf.add(fs, "ask for a password on the terminal, needed with the link to read the paste (implies --encrypt)")
	server := fs.String("server", "", "the server's `URL` (default $PASTEUR_SERVER, or "+defaultServer+")")
	var opt client.PutOptions
	fs.BoolVar(&opt.Encrypt, "encrypt", false, "encrypt the paste here; the key goes in the URL's fragment")
	fs.BoolVar(&opt.Encrypt, "e", false, "short for --encrypt")
	fs.StringVar(&opt.Language, "hl", "", "highlight.js `language` name (default: FILE's extension, when the server knows it)")
	fs.BoolVar(&opt.Lines, "ln", false, "line numbers in the URL")
	fs.BoolVar(&opt.Raw, "raw", false, "make the URL the raw view")
	fs.StringVar(&opt.User, "user", "", "`name` to record as the paste's author; for a server with --auth, the user to log in as (the password from $PASTEUR_AUTH, ~/.netrc, or asked on the terminal)")
	fs.StringVar(&opt.Comment, "comment", "", "one-line `text` to record with the paste")
	fs.StringVar(&opt.Expire, "expire", "", "delete the paste after this `duration` (10m, 1h, 1d, 1w, 1y) or never (default: the server's)")
	fs.BoolVar(&opt.Burn, "burn", false, "delete the paste when it is first read")
	pos, err := parseArgs(fs, args)
	if err == nil && len(pos) > 1 {
		err = fmt.Errorf("one FILE at most, got %q", pos)
	}
	if err != nil {
		return usageError("put", err, stderr)
	}
	file := "-"
	if len(pos) == 1 {
		file = pos[0]
	}
	if *server == "" {
		*server = os.Getenv("PASTEUR_SERVER")
	}
	if *server == "" {
		*server = defaultServer
	}
	if opt.Language == "" && file != "-" {
		opt.Language = strings.TrimPrefix(filepath.Ext(file), ".")
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "pasteur put: %v\n", err)
		return exitRuntime
	}
	text, err := readPaste(file, stdin)
	if err != nil {
		return fail(err)
	}
	if cf.askPassword || cf.passwordFile != "" {
		if opt.Password, err = cf.password(true); err != nil {
			return fail(err)
		}
	}
	ctx, stop := commandContext()
	defer stop()
	c := &client.Client{HTTP: cf.httpClient()}
	if c.Auth, err = credentials(*server, opt.User); err != nil {
		return fail(err)
	}
	p, err := c.PutPaste(ctx, *server, text, opt)
	if needsUser(err) && c.Auth == nil && opt.User != "" {
		// Like curl -u NAME: the password is asked for when needed.
		pw, perr := askPasswordPrompt("Password of "+opt.User+" on "+*server+": ", false)
		if perr != nil {
			return fail(authHint(err, false))
		}
		c.Auth = &client.Credentials{User: opt.User, Password: pw}
		p, err = c.PutPaste(ctx, *server, text, opt)
	}
	if needsUser(err) {
		return fail(authHint(err, c.Auth != nil))
	}
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(stdout, p.URL)
	if p.DeleteToken != "" {
		// echo is the shell's own: the token stays out of the process
		// list, as it would not with --token.
		fmt.Fprintf(stderr, "delete token: %s (to delete: echo %s | pasteur delete '%s')\n", p.DeleteToken, p.DeleteToken, p.URL)
	}
	return exitOK
}

// readPaste reads file, or stdin for "-", refusing more than a server
// takes by default with some room (the server has the last word).
func readPaste(file string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	const limit = 64 * paste.DefaultMaxSize
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s is over %d bytes", file, limit)
	}
	return b, nil
}
