// Package paste is pasteur's domain: what a paste is, how pastes are named,
// the Store that keeps them, and the HTTP handler that serves the website.
//
// It knows nothing of git, TAP devices or TCP/IP stacks: the Store is an
// interface implemented elsewhere (package gitsync), and the handler is a
// plain http.Handler served on whatever listener main hands it.
package paste

import (
	"context"
	"errors"
	"time"
)

// Errors a Store or the handler reports. They are wrapped with context; test
// with errors.Is. The handler maps them to HTTP statuses in one place.
var (
	ErrNotFound    = errors.New("paste not found")
	ErrExists      = errors.New("paste id already taken")
	ErrTooLarge    = errors.New("paste too large")
	ErrInvalid     = errors.New("invalid paste")
	ErrUnavailable = errors.New("storage unavailable")
)

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

// Store keeps pastes. Implementations are safe for concurrent use.
type Store interface {
	// Create stores p under p.ID. It returns nil only once the paste is
	// durable (for gitsync: committed, and pushed when a remote is set),
	// ErrExists when the id is already taken (nothing written), and an
	// error wrapping ErrUnavailable when storage cannot take it now.
	Create(ctx context.Context, p *Paste) error

	// Get returns the paste stored under id, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, id string) (*Paste, error)
}
