package repo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// A pack that pasteur made in memory (a round of the log, a merge) goes to
// disk in few system calls: its files are made read-only at their
// creation (no chmod after), and the pack is written straight from its
// buffer, in one write.

// writeMade saves pack and its index idx, both made in memory, in
// temporary files of p.dir, and fsyncs the two at once.
func (p *Received) writeMade(pack, idx []byte) error {
	f, err := createTemp(p.dir, "tmp_pack_")
	if err != nil {
		return err
	}
	defer f.Close()
	p.pack, p.size = f.Name(), int64(len(pack))
	if _, err := f.Write(pack); err != nil {
		return fmt.Errorf("write pack: %w", err)
	}
	x, err := createTemp(p.dir, "tmp_idx_")
	if err != nil {
		return err
	}
	defer x.Close()
	p.idx = x.Name()
	if _, err := x.Write(idx); err != nil {
		return err
	}
	packErr := make(chan error, 1)
	go func() { packErr <- f.Sync() }()
	return errors.Join(x.Sync(), <-packErr)
}

// createTemp creates a new file in dir, named prefix and a random number,
// read-only as git's packs are (the descriptor it returns writes).
func createTemp(dir, prefix string) (*os.File, error) {
	for range 10000 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o444)
		if !errors.Is(err, os.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("create a temporary file in %s: names exhausted", dir)
}
