package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pasteur-dev/pasteur/gitsync"
)

// runKeygen is `pasteur keygen`: it makes the ssh key pasteur signs in to
// an ssh remote with, and prints the public key to authorize on the remote
// (a forge's deploy key with write access, or authorized_keys).
func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pasteur keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.String("ssh-seed", "", "print the public key derived from this `seed` (as --ssh-seed does), write nothing")
	out := fs.String("out", "", "write a new random Ed25519 private key to this `file` (for --ssh-key), created with mode 0600")
	comment := fs.String("comment", "pasteur", "comment of the public key")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pasteur keygen (--out FILE | --ssh-seed SEED)\n\nMakes the ssh key for an ssh --remote and prints its public key.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 || (*seed == "") == (*out == "") {
		fmt.Fprintln(stderr, "pasteur keygen: give --out FILE or --ssh-seed SEED (see --help)")
		return exitUsage
	}
	var key crypto.Signer
	if *seed != "" {
		k, err := gitsync.SSHKeyFromSeed([]byte(*seed))
		if err != nil {
			fmt.Fprintf(stderr, "pasteur keygen: --ssh-seed: %v\n", err)
			return exitUsage
		}
		key = k
	} else {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			fmt.Fprintf(stderr, "pasteur keygen: %v\n", err)
			return exitRuntime
		}
		b, err := gitsync.MarshalSSHKey(k, *comment)
		if err == nil {
			err = writeNew(*out, b)
		}
		if err != nil {
			fmt.Fprintf(stderr, "pasteur keygen: %v\n", err)
			return exitRuntime
		}
		key = k
	}
	line, fp, err := gitsync.AuthorizedKey(key, *comment)
	if err != nil {
		fmt.Fprintf(stderr, "pasteur keygen: %v\n", err)
		return exitRuntime
	}
	fmt.Fprintln(stdout, line)
	fmt.Fprintf(stderr, "fingerprint %s; add the line above as a deploy key with write access (or to authorized_keys)\n", fp)
	return exitOK
}

// writeNew writes b to a new file path, readable by its owner only.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
