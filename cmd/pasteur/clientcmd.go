package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pasteur-dev/pasteur/netx"
)

// defaultServer is where put sends pastes without --server or
// $PASTEUR_SERVER: a pasteur run with its defaults.
const defaultServer = "http://127.0.0.1:4343"

// clientFlags are the flags put and get share.
type clientFlags struct {
	timeout      time.Duration
	askPassword  bool
	passwordFile string
}

// add registers the flags; --password only when ask describes it.
func (c *clientFlags) add(fs *flag.FlagSet, ask string) {
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "give up after this `duration`")
	if ask != "" {
		fs.BoolVar(&c.askPassword, "password", false, ask)
	}
	fs.StringVar(&c.passwordFile, "password-file", "", "read the password from the first line of this `file`")
}

// password reads the password from --password-file, or asks for it on the
// terminal (twice when confirm is set). It is called only when needed.
func (c *clientFlags) password(confirm bool) (string, error) {
	if c.passwordFile != "" {
		b, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return "", err
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		pw = strings.TrimSuffix(pw, "\r")
		if pw == "" {
			return "", fmt.Errorf("%s: the first line is empty", c.passwordFile)
		}
		return pw, nil
	}
	return askPassword(confirm)
}

// httpClient is the CLI's HTTP client, dialing through the host's network.
func (c *clientFlags) httpClient() *http.Client {
	return &http.Client{
		Timeout: c.timeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&netx.Host{}).Dial,
			TLSHandshakeTimeout: 30 * time.Second,
		},
	}
}

// parseArgs parses flags that may come before, between or after the
// positional arguments (pasteur put FILE --server URL), and returns those.
// Everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet makes a subcommand's flag set; usage is printed to stdout
// for --help and to stderr after a usage error.
func newFlagSet(name, usage string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pasteur "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprint(stdout, usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// usageError reports a command line mistake and returns exitUsage, or
// exitOK for --help (whose usage fs already printed).
func usageError(name string, err error, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "pasteur %s: %v (see pasteur %s --help)\n", name, err, name)
	return exitUsage
}

// commandContext ends on Ctrl-C or SIGTERM.
func commandContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
