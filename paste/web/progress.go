package web

import (
	"bytes"
	"io"
	"net/http"
	"time"
)

// DefaultWriteStep is how much of an answer goes out between two
// extensions of its write deadline unless configured otherwise, and what
// one write to the connection carries at most.
const DefaultWriteStep = 32 << 10

// DefaultWriteStall is how long a client may take to read each step of an
// answer unless configured otherwise: the minute the fixed write timeout
// gave a whole answer before. Less cut off downloads over a lossy
// userspace link (5% loss each way) that stalled for over 20 s in
// retransmissions; memory does not depend on it (stalled readers share
// one rendering).
const DefaultWriteStall = 60 * time.Second

// progressWriter writes an answer in steps of step bytes and moves
// the connection's write deadline stall ahead before each: a client that
// reads gets as long as the answer needs, one that stops reading is cut
// off after stall, and a fixed timeout no longer decides how large a paste
// a slow link can fetch.
type progressWriter struct {
	http.ResponseWriter
	rc    http.ResponseController // of ResponseWriter
	step  int
	stall time.Duration
	off   bool // the connection takes no deadlines
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		step := min(len(b), p.step)
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
		step := min(len(s), p.step)
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

// ReadFrom writes what r holds. net/http's ServeContent copies an answer
// through io.CopyN, 32 KiB at a time; a paste's text is already in
// memory, and a body of it (under CopyN's limit) is written from there
// in steps of p.step, without the copy. Other readers are copied
// as before.
func (p *progressWriter) ReadFrom(r io.Reader) (int64, error) {
	limit := int64(-1)
	src := r
	if lr, ok := r.(*io.LimitedReader); ok {
		limit, src = lr.N, lr.R
	}
	b, ok := src.(*body)
	if !ok {
		return io.Copy(writerOnly{p}, r)
	}
	rest := b.rest()
	if limit >= 0 && int64(len(rest)) > limit {
		rest = rest[:limit]
	}
	n, err := p.Write(rest)
	b.skip(n)
	if limit >= 0 {
		r.(*io.LimitedReader).N -= int64(n)
	}
	return int64(n), err
}

// writerOnly hides a writer's ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }

// body reads a text held in memory, as bytes.Reader does, and gives
// progressWriter what is left of it to write as it is.
type body struct {
	bytes.Reader
	b []byte
}

func newBody(b []byte) *body {
	r := &body{b: b}
	r.Reset(b)
	return r
}

// rest is what is left to read.
func (r *body) rest() []byte { return r.b[len(r.b)-r.Len():] }

// skip counts n bytes of the rest as read.
func (r *body) skip(n int) { _, _ = r.Seek(int64(n), io.SeekCurrent) }

// Flush sends what is buffered.
func (p *progressWriter) Flush() { _ = p.rc.Flush() }

// Unwrap gives http.ResponseController the writer underneath.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
