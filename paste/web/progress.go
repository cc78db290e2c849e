package web

import (
	"io"
	"net/http"
	"time"
)

// progressStep is how much of an answer goes out between two extensions
// of its write deadline.
const progressStep = 32 << 10

// DefaultWriteStall is how long a client may take to read each 32 KiB of
// an answer unless configured otherwise: the minute the fixed write
// timeout gave a whole answer before. Less cut off downloads over a lossy
// userspace link (5% loss each way) that stalled for over 20 s in
// retransmissions; memory does not depend on it (stalled readers share
// one rendering).
const DefaultWriteStall = 60 * time.Second

// progressWriter writes an answer in steps of progressStep bytes and moves
// the connection's write deadline stall ahead before each: a client that
// reads gets as long as the answer needs, one that stops reading is cut
// off after stall, and a fixed timeout no longer decides how large a paste
// a slow link can fetch.
type progressWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
	off   bool // the connection takes no deadlines
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		step := min(len(b), progressStep)
		if !p.off && p.rc.SetWriteDeadline(time.Now().Add(p.stall)) != nil {
			p.off = true
		}
		m, err := p.ResponseWriter.Write(b[:step])
		n += m
		if err != nil {
			return n, err
		}
		b = b[step:]
	}
	return n, nil
}

// WriteString is Write for a string, without copying it (a shared
// rendering is written as it is).
func (p *progressWriter) WriteString(s string) (int, error) {
	n := 0
	for len(s) > 0 {
		step := min(len(s), progressStep)
		if !p.off && p.rc.SetWriteDeadline(time.Now().Add(p.stall)) != nil {
			p.off = true
		}
		m, err := io.WriteString(p.ResponseWriter, s[:step])
		n += m
		if err != nil {
			return n, err
		}
		s = s[step:]
	}
	return n, nil
}

// Flush sends what is buffered.
func (p *progressWriter) Flush() { _ = p.rc.Flush() }

// Unwrap gives http.ResponseController the writer underneath.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
