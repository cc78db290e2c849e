// Package pastetest provides what tests of pasteur's stores and clients
// need: TestStore, the contract every paste.Store passes; a paste.Store in
// memory; and NewServer, the website over that store on loopback.
package pastetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
)

// Store is a paste.Store in a map. It keeps each paste in the stored
// format (paste.Marshal), and a removed one as its tombstone, as a real
// store does: what it returns is a copy, times are to the second, and it
// refuses what such a store refuses. The zero value is ready to use.
type Store struct {
	mu     sync.Mutex
	pastes map[string][]byte // by id, as paste.Marshal encodes them
}

// Create implements paste.Store.
func (s *Store) Create(_ context.Context, p *paste.Paste) error {
	if !paste.ValidID(p.ID) {
		return fmt.Errorf("pastetest: paste id %q: %w", p.ID, paste.ErrInvalid)
	}
	b, err := paste.Marshal(p)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pastes == nil {
		s.pastes = map[string][]byte{}
	}
	if _, ok := s.pastes[p.ID]; ok {
		return fmt.Errorf("pastetest: paste %s: %w", p.ID, paste.ErrExists)
	}
	s.pastes[p.ID] = b
	return nil
}

// Get implements paste.Store.
func (s *Store) Get(_ context.Context, id string) (*paste.Paste, error) {
	s.mu.Lock()
	b, ok := s.pastes[id]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("pastetest: get %s: %w", id, paste.ErrNotFound)
	}
	p, err := paste.Unmarshal(id, b)
	if err == nil && p.ExpiredAt(time.Now()) {
		return nil, fmt.Errorf("pastetest: get %s: %s: %w", id, paste.Expired, paste.ErrGone)
	}
	return p, err
}

// Remove implements paste.Store.
func (s *Store) Remove(_ context.Context, id string, why paste.Reason) error {
	_, err := s.take(id, why)
	return err
}

// Burn implements paste.Store.
func (s *Store) Burn(_ context.Context, id string) (*paste.Paste, error) {
	return s.take(id, paste.Burned)
}

// take replaces paste id by its tombstone and returns it.
func (s *Store) take(id string, why paste.Reason) (*paste.Paste, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.pastes[id]
	if !ok {
		return nil, fmt.Errorf("pastetest: remove %s: %w", id, paste.ErrNotFound)
	}
	p, err := paste.Unmarshal(id, b)
	if err != nil {
		return nil, err
	}
	if p.ExpiredAt(time.Now()) {
		s.pastes[id] = paste.MarshalTombstone(paste.Expired, time.Now())
		return nil, fmt.Errorf("pastetest: remove %s: %s: %w", id, paste.Expired, paste.ErrGone)
	}
	s.pastes[id] = paste.MarshalTombstone(why, time.Now())
	return p, nil
}

// Pastes returns a copy of every stored paste, by id.
func (s *Store) Pastes() map[string]paste.Paste {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]paste.Paste, len(s.pastes))
	for id, b := range s.pastes {
		if p, err := paste.Unmarshal(id, b); err == nil {
			out[id] = *p
		}
	}
	return out
}
