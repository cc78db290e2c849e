// Command pasteur is a pastebin that saves every paste into a Git
// repository. It runs on the host's sockets, or, with --tap, on its own
// userspace TCP/IP stack over a TAP device, as the MirageOS unikernel it
// descends from did.
//
// pasteur put and pasteur get are its client: they paste a file and print
// a paste, encrypting and decrypting in the browser's format.
//
// main wires the pieces in the order data flows: network, listener, store,
// handler, serve.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sampleAllocations(os.Getenv("GODEBUG"))
	os.Exit(dispatch(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// dispatch runs the subcommand args name (put, get, delete, keygen,
// migrate) or, without
// one, the server, and returns the exit status.
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "put":
			return runPut(args[1:], stdin, stdout, stderr)
		case "get":
			return runGet(args[1:], stdin, stdout, stderr)
		case "delete":
			return runDelete(args[1:], stdin, stdout, stderr)
		case "keygen":
			return runKeygen(args[1:], stdout, stderr)
		case "migrate":
			return runMigrate(args[1:], stdout, stderr)
		}
	}
	return run(args, stdout, stderr)
}

// Exit statuses.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// run executes the command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseServeFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "pasteur: %v\n", err)
		return exitUsage
	}
	if err := serve(ctx, cfg, stderr); err != nil {
		fmt.Fprintf(stderr, "pasteur: %v\n", err)
		return exitRuntime
	}
	return exitOK
}
