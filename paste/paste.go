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
	ErrGone        = errors.New("paste removed")
	ErrForbidden   = errors.New("wrong delete token")
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

	// The paste's life (lifecycle.go): when it expires (zero: never),
	// whether the first read that delivers it removes it, and the hash
	// of its delete token (DeleteHash; "" for none).
	Expires    time.Time
	Burn       bool
	DeleteHash string
}

// Store keeps pastes. Implementations are safe for concurrent use, keep
// nothing of the Paste that Create is given, and return a Paste from Get
// that the caller owns. pastetest.TestStore checks this contract.
type Store interface {
	// Create stores p under p.ID. It returns nil only once the paste is
	// durable (for gitsync: committed, or in its write-ahead log, and
	// pushed when a remote is set), ErrExists when the id is already
	// taken (nothing written), ErrInvalid when p.ID is not a ValidID or p
	// cannot be stored (see Marshal), an error wrapping ErrUnavailable
	// when storage cannot take it now, and
	// one wrapping ErrFull when it has reached a bound it was given
	// (nothing written).
	Create(ctx context.Context, p *Paste) error

	// Get returns the paste stored under id, field for field as created
	// (Created and Expires to the second), or an error wrapping
	// ErrNotFound, also for an id that is not a ValidID, or ErrGone for a
	// paste that was removed or has expired. Get never burns a paste.
	Get(ctx context.Context, id string) (*Paste, error)

	// Remove replaces paste id by a record of its removal, for why. It
	// returns nil once that is durable (as Create), an error wrapping
	// ErrNotFound for an id never stored, ErrGone for one already
	// removed, ErrUnavailable when storage cannot take it now.
	Remove(ctx context.Context, id string, why Reason) error

	// Burn removes paste id as burned and returns it: of all the Burns of
	// an id, on every instance sharing the storage, exactly one returns
	// the paste, and only once its removal is durable where every
	// instance reads (pushed, for gitsync with a remote); the others get
	// an error wrapping ErrGone. ErrNotFound for an id never stored,
	// ErrUnavailable when the removal cannot be made durable now (the
	// paste is then left as it was, or removed unread).
	Burn(ctx context.Context, id string) (*Paste, error)
}
