package paste

import (
	"context"
	"testing"
)

// panicStore is a Store whose Get panics, as a bug in a store's reader
// of a corrupt object would; net/http recovers a handler's panic.
type panicStore struct{ Store }

func (panicStore) Get(context.Context, string) (*Paste, error) { panic("a corrupt object") }

// TestCacheReadThatPanics: a View whose read of the store panics ends
// its read all the same: the Views of the paste that come after do not
// wait for it (until their own context ends) but read on their own.
func TestCacheReadThatPanics(t *testing.T) {
	c := NewCache(panicStore{}, 1<<20)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the store's panic was not passed on")
			}
		}()
		c.View(context.Background(), "a")
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.reading["a"]; ok {
		select {
		case <-r.done:
		default:
			t.Fatal("a read that panicked is still under way: later Views of the paste wait for it")
		}
	}
}
