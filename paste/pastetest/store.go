// Package pastetest provides what tests of pasteur's clients need: a
// paste.Store in memory, to serve a real paste.Handler from httptest.
package pastetest

import (
	"context"
	"fmt"
	"sync"

	"github.com/pasteur-dev/pasteur/paste"
)

// Store is a paste.Store in a map. The zero value is ready to use.
type Store struct {
	mu     sync.Mutex
	pastes map[string]*paste.Paste
}

// Create implements paste.Store.
func (s *Store) Create(_ context.Context, p *paste.Paste) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pastes == nil {
		s.pastes = map[string]*paste.Paste{}
	}
	if _, ok := s.pastes[p.ID]; ok {
		return paste.ErrExists
	}
	c := *p
	s.pastes[p.ID] = &c
	return nil
}

// Get implements paste.Store.
func (s *Store) Get(_ context.Context, id string) (*paste.Paste, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pastes[id]
	if !ok {
		return nil, fmt.Errorf("pastetest: get %s: %w", id, paste.ErrNotFound)
	}
	c := *p
	return &c, nil
}

// Pastes returns a copy of every stored paste, by id.
func (s *Store) Pastes() map[string]paste.Paste {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]paste.Paste, len(s.pastes))
	for id, p := range s.pastes {
		out[id] = *p
	}
	return out
}
