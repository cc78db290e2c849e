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
	if len(os.Args) > 1 && os.Args[1] == "keygen" {
		os.Exit(runKeygen(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 {
		if cmd := clientCommand(os.Args[1]); cmd != nil {
			os.Exit(cmd(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
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
