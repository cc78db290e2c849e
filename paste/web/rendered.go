package web

import (
	"container/list"
	"sync"
)

// DefaultRenderCache bounds the shared renderings unless configured
// otherwise.
const DefaultRenderCache = 32 << 20

// renderings keeps the costly forms of recently shown pastes (a page's
// escaped text, the JSON document), made once and shared by every reader
// of the paste, within a bound in bytes: a paste of 1 MiB of '<' is 4 MiB
// of HTML, and made anew for each of 300 readers it cost seconds of CPU
// and held the other clients up. Pastes never change, so an entry is
// never stale. Readers that arrive while a form is being made wait for
// it instead of making it again.
type renderings struct {
	max int64

	mu       sync.Mutex
	bytes    int64
	lru      list.List // of *rendering, most recent first
	byKey    map[renderKey]*list.Element
	inflight map[renderKey]*renderCall
}

// renderKey names one form of one paste.
type renderKey struct {
	form string // "html", "json"
	id   string
}

type rendering struct {
	key renderKey
	s   string
}

// renderCall is a form being made; done closes when s and err are set.
type renderCall struct {
	done chan struct{}
	s    string
	err  error
}

func newRenderings(max int64) *renderings {
	return &renderings{max: max, byKey: map[renderKey]*list.Element{}, inflight: map[renderKey]*renderCall{}}
}

// fits reports whether a form of at most size bytes is kept: up to a
// quarter of the bound. Larger ones are better streamed than made whole.
func (c *renderings) fits(size int) bool {
	return int64(size) <= c.max/4
}

// get returns the form of paste id, made by render unless it is kept or
// being made.
func (c *renderings) get(form, id string, render func() (string, error)) (string, error) {
	k := renderKey{form, id}
	c.mu.Lock()
	if e, ok := c.byKey[k]; ok {
		c.lru.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*rendering).s, nil
	}
	if call, ok := c.inflight[k]; ok {
		c.mu.Unlock()
		<-call.done
		return call.s, call.err
	}
	call := &renderCall{done: make(chan struct{})}
	c.inflight[k] = call
	c.mu.Unlock()

	call.s, call.err = render()

	c.mu.Lock()
	delete(c.inflight, k)
	if size := int64(len(call.s)); call.err == nil && size <= c.max/4 {
		c.byKey[k] = c.lru.PushFront(&rendering{k, call.s})
		c.bytes += size
		for c.bytes > c.max {
			old := c.lru.Remove(c.lru.Back()).(*rendering)
			delete(c.byKey, old.key)
			c.bytes -= int64(len(old.s))
		}
	}
	c.mu.Unlock()
	close(call.done)
	return call.s, call.err
}

// chunksOf cuts s into pieces of at most size bytes, without copying.
func chunksOf(s string, size int) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for len(s) > 0 {
			n := min(size, len(s))
			if !yield(s[:n]) {
				return
			}
			s = s[n:]
		}
	}
}
