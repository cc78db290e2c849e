package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/seal"
)

// Paste is a paste as Get returns it.
type Paste struct {
	Text      []byte // the text, decrypted when it was encrypted
	Language  string // the language stored with it, "" for none
	Encrypted bool   // it was encrypted end to end
}

// GetOptions tune Get; all are optional.
type GetOptions struct {
	// Password is asked for a paste that needs one. When it is nil, such
	// a paste fails with seal.ErrPasswordRequired.
	Password func() (string, error)
}

// Get fetches the paste at pasteURL (http://HOST/ID, with the #KEY of an
// encrypted paste as the browser shows it; the query and any line
// selection are ignored) and decrypts it.
func (c *Client) Get(ctx context.Context, pasteURL string, opt GetOptions) (*Paste, error) {
	loc, err := ParseURL(pasteURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", loc.Server.JoinPath(loc.ID).String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	// The answer is a paste.Document; Contents, re-declared as a pointer
	// over the embedded field, tells a missing text from an empty one.
	var rec struct {
		paste.Document
		Contents *string `json:"contents"`
	}
	if err := c.do(req, &rec); err != nil {
		return nil, fmt.Errorf("get %s: %w", loc.ID, err)
	}
	if rec.Contents == nil {
		return nil, fmt.Errorf("get %s: %w: no contents", loc.ID, ErrBadAnswer)
	}
	p := &Paste{Text: []byte(*rec.Contents), Language: rec.Language, Encrypted: rec.Encrypted}
	if !rec.Encrypted {
		return p, nil
	}
	if loc.Key == "" {
		return nil, fmt.Errorf("get %s: %w", loc.ID, ErrNoKey)
	}
	if p.Text, err = open(*rec.Contents, loc.Key, opt); err != nil {
		return nil, fmt.Errorf("get %s: %w", loc.ID, err)
	}
	return p, nil
}

// open decrypts contents with the fragment's key: a pasteur envelope, or
// the original pasteur's hex ciphertext with its JWK key.
func open(contents, fragmentKey string, opt GetOptions) ([]byte, error) {
	if seal.IsLegacy(contents) {
		key, err := seal.ParseLegacyKey(fragmentKey)
		if err != nil {
			return nil, fmt.Errorf("the URL's #key: %w", err)
		}
		return seal.OpenLegacy(contents, key)
	}
	key, err := seal.ParseKey(fragmentKey)
	if err != nil {
		return nil, fmt.Errorf("the URL's #key: %w", err)
	}
	env, err := seal.Parse(contents)
	if err != nil {
		return nil, err
	}
	var password string
	if env.NeedsPassword() {
		if opt.Password == nil {
			return nil, seal.ErrPasswordRequired
		}
		if password, err = opt.Password(); err != nil {
			return nil, fmt.Errorf("password: %w", err)
		}
	}
	return seal.Open(contents, key, password)
}

// Location is a paste's URL, taken apart.
type Location struct {
	Server *url.URL // scheme, host and any path prefix
	ID     string
	Key    string // the fragment's key, "" for none
	From   int    // the fragment's first selected line, 0 for none
	To     int    // its last selected line
}

// ParseURL takes apart a paste URL: SERVER/ID[?query][#fragment], where the
// fragment is #KEY, #KEY-L12, #KEY-L12-L20, #L12 or #L12-L20 (see
// docs/FORMAT.md).
func ParseURL(pasteURL string) (*Location, error) {
	u, err := url.Parse(strings.TrimSpace(pasteURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: want http(s)://HOST/ID, got %q", ErrBadURL, pasteURL)
	}
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndexByte(path, '/')
	id := path[i+1:]
	if id == "" {
		return nil, fmt.Errorf("%w: %q names no paste", ErrBadURL, pasteURL)
	}
	loc := &Location{Server: &url.URL{Scheme: u.Scheme, Host: u.Host, Path: path[:i]}, ID: id}
	loc.Key, loc.From, loc.To = ParseFragment(u.Fragment)
	return loc, nil
}
