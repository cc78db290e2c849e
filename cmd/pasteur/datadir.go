package main

import (
	"errors"
	"fmt"

	"github.com/pasteur-dev/pasteur/gitsync"
)

// inUseHint adds what to do to an error that says another pasteur
// process has the data directory open.
func inUseHint(err error) error {
	if errors.Is(err, gitsync.ErrInUse) {
		return fmt.Errorf("%w; stop it first, or give another --data", err)
	}
	return err
}
