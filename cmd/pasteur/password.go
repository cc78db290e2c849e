package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// askPassword reads a password from the terminal without echoing it, and
// a second time to confirm when confirm is set. It uses /dev/tty, so that
// standard input can carry the paste.
func askPassword(confirm bool) (string, error) {
	return askPasswordPrompt("Password: ", confirm)
}

// askPasswordPrompt is askPassword with its own prompt.
func askPasswordPrompt(prompt string, confirm bool) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errors.New("no terminal to ask for the password on: use --password-file")
	}
	defer tty.Close()
	read := func(prompt string) (string, error) {
		fmt.Fprint(tty, prompt)
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		return string(b), err
	}
	pw, err := read(prompt)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if pw == "" {
		return "", errors.New("the password is empty")
	}
	if confirm {
		again, err := read("Again: ")
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		if again != pw {
			return "", errors.New("the passwords differ")
		}
	}
	return pw, nil
}
