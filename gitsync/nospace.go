package gitsync

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/pasteur-dev/pasteur/paste"
)

// noRoom wraps err, from writing to the repository, with
// paste.ErrUnavailable when the disk cannot take more now (full, over
// quota, read-only): the paste was not stored, and may be later.
func noRoom(err error) error {
	for _, e := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS} {
		if errors.Is(err, e) {
			return fmt.Errorf("gitsync: the disk cannot take the paste: %w: %w", paste.ErrUnavailable, err)
		}
	}
	return err
}
