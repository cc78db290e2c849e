package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pasteur-dev/pasteur/gitsync"
)

const migrateUsage = `Usage: pasteur migrate --data DIR

Moves the pastes the original pasteur wrote at the root of the repository
in DIR (a bare repository: pasteur's --data, or git clone --bare of the
original's remote) to the layout pasteur writes, ID[0]/ID[1]/ID, in one
commit. Ids and contents do not change. Run it with the server stopped;
the server pushes the commit to --remote when it starts (or git push it).
Reads and writes get cheaper: the root no longer holds every paste.
After it, the original cannot read that repository.

Flags (-name and --name both work):
`

// runMigrate is pasteur migrate.
func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("migrate", migrateUsage, stdout)
	data := fs.String("data", "pasteur-data", "`directory` of the bare repository to migrate")
	branch := fs.String("branch", "master", "the `branch` that holds the pastes")
	pos, err := parseArgs(fs, args)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err != nil {
		return usageError("migrate", err, stderr)
	}
	m, err := gitsync.Migrate(*data, *branch, time.Now())
	if errors.Is(err, gitsync.ErrQueued) {
		err = fmt.Errorf("%w: start pasteur on it once, so that it pushes them, then stop it and migrate", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pasteur migrate: %v\n", inUseHint(err))
		return exitRuntime
	}
	switch {
	case m.Moved == 0:
		fmt.Fprintf(stdout, "no paste at the root of %s: nothing to move\n", *data)
	default:
		fmt.Fprintf(stdout, "moved %d pastes to ID[0]/ID[1]/ID in commit %s\n", m.Moved, m.Commit)
	}
	if m.Kept > 0 {
		fmt.Fprintf(stdout, "kept %d pastes at the root: their new path was taken (they are still read)\n", m.Kept)
	}
	return exitOK
}
