package repo

import (
	"io"
)

// Pack finishes the purge's pack and returns its bytes, discarding its
// files: what the tests written before the pack went to a file read.
func (p *Purge) Pack() ([]byte, error) {
	in, err := p.Finish()
	if err != nil || in == nil {
		return nil, err
	}
	defer in.Discard()
	rd, err := in.Open()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}
