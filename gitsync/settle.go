package gitsync

import "fmt"

// Settle gives back the memory the store keeps to go faster under load
// (the packs waiting for a merge, the decoded trees, the packs' indexes,
// go-git's object cache, maps grown to a burst's size), for a caller
// that knows the store is idle: a burst of pastes ended. The store stays
// as it was otherwise; the next write reads the trees it needs back from
// the packs. Safe to call at any time: it takes
// the store's lock, and is one merge at most.
func (s *Store) Settle() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if err := s.repo.Settle(); err != nil {
		return fmt.Errorf("gitsync: settle: %w", err)
	}
	// The log's map of pastes not yet committed keeps the room the
	// burst's rounds grew it to (thousands of entries with AckDisk).
	docs := make(map[string]loggedPaste, len(s.logged.docs))
	for id, lp := range s.logged.docs {
		docs[id] = lp
	}
	s.logged.docs = docs
	return nil
}
