package repo

import (
	"errors"
	"fmt"
	"io"
)

// Limits bound what the objects of a remote may cost pasteur: a pack comes
// from the network (git:// has no integrity at all), and a few hundred
// bytes of it can describe gigabytes (a delta copying its base thousands
// of times, a blob of zeros compressed a thousandfold). pasteur never
// writes an object larger than what the largest paste can become, so a
// larger one is refused, not read.
type Limits struct {
	// Object bounds one object's contents, inflated or rebuilt from a
	// delta.
	Object int64
	// Paste bounds a paste read back (its stored document): a larger one,
	// written by a server with a larger limit or pushed by hand, is not
	// read.
	Paste int64
	// Chain bounds the delta bases held in memory at once while a pack is
	// indexed: a base stays held while it has deltas left to build, so
	// a linear chain holds one at a time, a tree of deltas one per level.
	Chain int64
	// Pack bounds the bytes of one fetched pack, as received.
	Pack int64
	// Inflated bounds the bytes one pack may inflate and rebuild in all,
	// which bounds the time spent indexing it.
	Inflated int64
}

// LimitsFor returns the limits for a server whose largest paste is maxSize
// bytes: a stored paste may be six times that (the JSON escape of a
// control byte is six bytes) plus 64 KiB; an object that plus 2 MiB (a
// tree of the original's flat layout with many pastes); the chain twice an
// object; a pack 2 GiB; a pack may inflate 64 times its size or 1 GiB,
// whichever is more.
func LimitsFor(maxSize int64) Limits {
	doc := 6*maxSize + 64<<10
	obj := doc + 2<<20
	return Limits{Object: obj, Paste: doc, Chain: 2 * obj, Pack: 2 << 30, Inflated: 1 << 30}
}

// inflatedFor returns the bytes a pack of size bytes may inflate.
func (l Limits) inflatedFor(size int64) int64 { return max(l.Inflated, 64*size) }

// ErrRefusedPack: a pack from the remote was refused: an object in it is
// larger than pasteur could have written, it costs more than the limits
// allow, or it lacks what the remote advertised.
var ErrRefusedPack = errors.New("pack refused")

// refuse returns an error wrapping ErrRefusedPack.
func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefusedPack, fmt.Sprintf(format, args...))
}

// ErrObjectTooLarge: an object in the repository is larger than Limits
// allow to read.
var ErrObjectTooLarge = errors.New("object too large")

// budget counts bytes against a limit.
type budget struct {
	left int64
	what string
}

// take spends n bytes, or reports that the limit is passed.
func (b *budget) take(n int64) error {
	if n > b.left {
		return refuse("%s over the limit", b.what)
	}
	b.left -= n
	return nil
}

// cappedWriter writes to w at most max bytes in all, and spends what it
// writes from inflated; more is an error, which stops the inflation.
type cappedWriter struct {
	w        io.Writer
	max      int64
	n        int64
	inflated *budget
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.n > c.max {
		return 0, refuse("an object inflates to more than %d bytes", c.max)
	}
	if err := c.inflated.take(int64(len(p))); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// cappedReader reads at most max bytes from r; more is an error.
type cappedReader struct {
	r   io.Reader
	max int64
	n   int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, refuse("the pack is larger than %d bytes", c.max)
	}
	return n, err
}

// deltaSizes returns the base and target sizes a delta declares in its
// header.
func deltaSizes(delta []byte) (src, dst int64, err error) {
	var off int
	next := func() (int64, error) {
		var v int64
		for shift := 0; ; shift += 7 {
			if off >= len(delta) || shift > 56 {
				return 0, errors.New("delta header truncated")
			}
			b := delta[off]
			off++
			v |= int64(b&0x7f) << shift
			if b&0x80 == 0 {
				return v, nil
			}
		}
	}
	if src, err = next(); err != nil {
		return 0, 0, err
	}
	dst, err = next()
	return src, dst, err
}
