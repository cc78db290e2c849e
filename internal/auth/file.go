package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// recheck is how often File looks at its file for changes, at most.
const recheck = time.Second

// File is the users of an htpasswd file, read again when it changes
// (checked at most once a second). A change that does not parse is
// logged, and the users read last stay in force. It is safe for
// concurrent use.
type File struct {
	path string
	log  *slog.Logger
	sem  chan struct{} // bounds concurrent bcrypt comparisons
	key  [32]byte      // keys the cache of verified passwords
	// dummy is compared against when the user is unknown, so that an
	// unknown user costs the time of a wrong password.
	dummy []byte

	mu      sync.Mutex
	users   map[string][]byte
	stat    os.FileInfo
	checked time.Time
	ok      map[string][32]byte // user -> MAC of the password last verified
	now     func() time.Time
}

// OpenFile reads the htpasswd file at path. A missing or unreadable file,
// or one that does not parse, is an error.
func OpenFile(path string, log *slog.Logger) (*File, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &File{path: path, log: log, sem: make(chan struct{}, runtime.GOMAXPROCS(0)), now: time.Now}
	if _, err := rand.Read(f.key[:]); err != nil {
		return nil, err
	}
	st, users, err := f.read()
	if err != nil {
		return nil, err
	}
	f.stat, f.users, f.checked = st, users, f.now()
	f.ok = make(map[string][32]byte)
	cost := bcrypt.MinCost
	for _, h := range users {
		if c, _ := bcrypt.Cost(h); c > cost {
			cost = c
		}
	}
	if f.dummy, err = bcrypt.GenerateFromPassword(f.key[:8], cost); err != nil {
		return nil, err
	}
	return f, nil
}

// read reads and parses the file.
func (f *File) read() (os.FileInfo, map[string][]byte, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: %w", err)
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: %w", err)
	}
	users, err := ParseHtpasswd(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.path, err)
	}
	return st, users, nil
}

// Len reports how many users the file holds.
func (f *File) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh()
	return len(f.users)
}

// refresh reads the file again if it changed; f.mu is held.
func (f *File) refresh() {
	now := f.now()
	if now.Sub(f.checked) < recheck {
		return
	}
	f.checked = now
	st, err := os.Stat(f.path)
	if err == nil && os.SameFile(st, f.stat) && st.ModTime().Equal(f.stat.ModTime()) && st.Size() == f.stat.Size() {
		return
	}
	if err == nil {
		var users map[string][]byte
		st, users, err = f.read()
		if err == nil {
			f.stat, f.users = st, users
			f.ok = make(map[string][32]byte)
			f.log.Info("users read again", "file", f.path, "users", len(users))
			return
		}
	}
	// Remember the file as it is, so that the error is logged once per
	// change, not once a second.
	if st != nil {
		f.stat = st
	}
	f.log.Error("users not read again: the users read last stay in force", "file", f.path, "err", err)
}

// Verify reports whether password is user's. It waits for a turn when
// many bcrypt comparisons run at once, until ctx ends.
func (f *File) Verify(ctx context.Context, user, password string) (bool, error) {
	mac := f.mac(user, password)
	f.mu.Lock()
	f.refresh()
	hash, known := f.users[user]
	cached, hit := f.ok[user]
	f.mu.Unlock()
	if known && hit && hmac.Equal(cached[:], mac[:]) {
		return true, nil
	}
	select {
	case f.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-f.sem }()
	if !known {
		bcrypt.CompareHashAndPassword(f.dummy, []byte(password))
		return false, nil
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return false, nil
	}
	f.mu.Lock()
	// Only if the file did not change meanwhile.
	if h, ok := f.users[user]; ok && hmac.Equal(h, hash) {
		f.ok[user] = mac
	}
	f.mu.Unlock()
	return true, nil
}

// mac keys user and password with f's secret, for the cache.
func (f *File) mac(user, password string) [32]byte {
	m := hmac.New(sha256.New, f.key[:])
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var out [32]byte
	m.Sum(out[:0])
	return out
}
