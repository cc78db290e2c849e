// Package paste is pasteur's domain: what a paste is, how pastes are named,
// how one is stored (the JSON document, also GET /ID's JSON answer), the
// Store that keeps them, a Cache in front of any Store, and the answers of
// the HTTP API that servers and clients share.
//
// It knows nothing of git, the web page, TAP devices or TCP/IP stacks: the
// Store is an interface implemented elsewhere (package gitsync), and the
// website that serves it is package paste/web.
package paste

import (
	"context"
	"errors"
	"time"
)

// Errors a Store or the website reports. They are wrapped with context;
// test with errors.Is. Package paste/web maps them to HTTP statuses in one
// place.
var (
	ErrNotFound    = errors.New("paste not found")
	ErrExists      = errors.New("paste id already taken")
	ErrTooLarge    = errors.New("paste too large")
	ErrInvalid     = errors.New("invalid paste")
	ErrUnavailable = errors.New("storage unavailable")
	ErrFull        = errors.New("storage full")
)

// DefaultMaxSize is the largest paste, in bytes, accepted unless
// configured otherwise.
const DefaultMaxSize = 1 << 20

// Paste is one snippet.
type Paste struct {
	ID        string    // see ValidID
	Contents  []byte    // the text (UTF-8), or the ciphertext envelope when Encrypted
	Encrypted bool      // encrypted in the client; the server never has the key
	Language  string    // highlight.js language name, "" for none
	User      string    // who pasted it, "" when anonymous (commit author)
	Comment   string    // a one-line description (commit message)
	Created   time.Time // when the server accepted it
}

// Store keeps pastes. Implementations are safe for concurrent use, keep
// nothing of the Paste that Create is given, and return a Paste from Get
// that the caller owns. pastetest.TestStore checks this contract.
type Store interface {
	// Create stores p under p.ID. It returns nil only once the paste is
	// durable (for gitsync: committed, and pushed when a remote is set),
	// ErrExists when the id is already taken (nothing written), ErrInvalid
	// when p.ID is not a ValidID or p cannot be stored (see Marshal), an
	// error wrapping ErrUnavailable when storage cannot take it now, and
	// one wrapping ErrFull when it has reached a bound it was given
	// (nothing written).
	Create(ctx context.Context, p *Paste) error

	// Get returns the paste stored under id, field for field as created
	// (Created to the second), or an error wrapping ErrNotFound, also for
	// an id that is not a ValidID.
	Get(ctx context.Context, id string) (*Paste, error)
}
