// Package client talks to a pasteur server over its HTTP interface: Put
// sends a paste, encrypting it first, in the browser's format (package
// seal), when asked; Get fetches one and decrypts it with the key in its
// URL's fragment. The pasteur command's put and get use it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/seal"
)

// Errors Put and Get return, wrapped; test with errors.Is. A refusal by
// the server is a *ServerError. Decryption fails with seal's errors.
var (
	ErrNotText   = errors.New("not UTF-8 text: pasteur keeps text only")
	ErrEmpty     = errors.New("nothing to paste")
	ErrNotFound  = errors.New("no such paste")
	ErrGone      = errors.New("the paste is gone: it expired, was read once, or was deleted")
	ErrNoKey     = errors.New("the paste is encrypted and the URL has no #key")
	ErrBadURL    = errors.New("not a paste URL")
	ErrBadAnswer = errors.New("the server's answer is not pasteur's")
)

// ServerError is a refusal from the server: its status and its one-line
// reason.
type ServerError struct {
	Status  int
	Message string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("the server refused (%d %s): %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Client is a pasteur client. Its zero value uses http.DefaultClient.
type Client struct {
	HTTP *http.Client

	// Auth, when set, is sent with every request (HTTP basic
	// authentication), for a server that needs a user.
	Auth *Credentials
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// PutOptions are a paste's settings; all are optional.
type PutOptions struct {
	Language string // highlight.js language name; the server drops unknown ones
	Lines    bool   // ask for line numbers in the URL
	Raw      bool   // make the URL the raw view
	Encrypt  bool   // encrypt here; the key goes in the URL's fragment
	Password string // also needed to decrypt; implies Encrypt
	User     string // the commit's author
	Comment  string // the commit's message
	Expire   string // "never", or a duration such as 10m, 1d, 1w; "" for the server's default
	Burn     bool   // the first read deletes the paste

	// Iterations of PBKDF2 with a password; seal.DefaultIterations when 0.
	Iterations int
}

// Put sends text to the server at base (such as http://127.0.0.1:4343)
// and returns the paste's URL, with the key in its fragment when it is
// encrypted. The text must be UTF-8 and not empty.
func (c *Client) Put(ctx context.Context, base string, text []byte, opt PutOptions) (string, error) {
	p, err := c.PutPaste(ctx, base, text, opt)
	if err != nil {
		return "", err
	}
	return p.URL, nil
}

// Pasted is what PutPaste made.
type Pasted struct {
	URL         string     // the paste's URL, with the key in its fragment when encrypted
	DeleteToken string     // what deletes it (Delete); the server gives it only now
	Expires     *time.Time // when it expires; nil for never
	Burn        bool       // the first read deletes it
}

// PutPaste is Put, and returns the paste's delete token and life too.
func (c *Client) PutPaste(ctx context.Context, base string, text []byte, opt PutOptions) (*Pasted, error) {
	server, err := parseBase(base)
	if err != nil {
		return nil, err
	}
	if len(text) == 0 {
		return nil, ErrEmpty
	}
	if !utf8.Valid(text) {
		return nil, ErrNotText
	}
	body := text
	var key seal.Key
	encrypt := opt.Encrypt || opt.Password != ""
	if encrypt {
		if key, err = seal.NewKey(); err != nil {
			return nil, err
		}
		iter := opt.Iterations
		if iter == 0 {
			iter = seal.DefaultIterations
		}
		env, err := seal.SealIterations(text, key, opt.Password, iter)
		if err != nil {
			return nil, err
		}
		body = []byte(env)
	}
	form, ctype, err := encodeForm(body, opt, encrypt)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", server.JoinPath("/").String(), form)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	var answer paste.CreateAnswer
	if err := c.do(req, &answer); err != nil {
		return nil, err
	}
	if answer.Code == "" || strings.ContainsAny(answer.Code, "/?#") {
		return nil, fmt.Errorf("%w: code %q", ErrBadAnswer, answer.Code)
	}
	u := server.JoinPath(answer.Code)
	q := url.Values{}
	if answer.Raw {
		q.Set("raw", "true")
	} else {
		if answer.HL != "" {
			q.Set("hl", answer.HL)
		}
		if answer.LN {
			q.Set("ln", "true")
		}
	}
	u.RawQuery = q.Encode()
	if encrypt {
		u.Fragment = key.String()
	}
	return &Pasted{URL: u.String(), DeleteToken: answer.DeleteToken, Expires: answer.Expires, Burn: answer.Burn}, nil
}

// encodeForm writes the paste as multipart/form-data, the paste as a file
// part so that its bytes go as they are.
func encodeForm(body []byte, opt PutOptions, encrypted bool) (io.Reader, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("paste", "paste")
	if err != nil {
		return nil, "", err
	}
	_, _ = fw.Write(body)
	fields := [][2]string{{"hl", opt.Language}, {"user", opt.User}, {"comment", opt.Comment}, {"expire", opt.Expire}}
	for _, on := range []struct {
		name string
		set  bool
	}{{"ln", opt.Lines}, {"raw", opt.Raw}, {"encrypted", encrypted}, {"burn", opt.Burn}} {
		if on.set {
			fields = append(fields, [2]string{on.name, "on"})
		}
	}
	for _, f := range fields {
		if f[1] != "" {
			if err := mw.WriteField(f[0], f[1]); err != nil {
				return nil, "", err
			}
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return &buf, mw.FormDataContentType(), nil
}

// do sends req and decodes a 200 JSON answer into v; with v nil, a 204
// answer is success too.
func (c *Client) do(req *http.Request, v any) error {
	if c.Auth != nil {
		req.SetBasicAuth(c.Auth.User, c.Auth.Password)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// The largest answer is a paste's JSON: a 1 MiB paste is about 1.4 MiB
	// encrypted, and escaping can double that.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode == http.StatusNotFound && (req.Method == "GET" || req.Method == "DELETE") {
		return ErrNotFound
	}
	if resp.StatusCode == http.StatusGone {
		return ErrGone
	}
	if resp.StatusCode == http.StatusNoContent && v == nil {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		msg, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		if len(msg) > 300 {
			msg = strings.ToValidUTF8(msg[:300], "") + "…"
		}
		return &ServerError{Status: resp.StatusCode, Message: msg}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	return nil
}

// parseBase checks a server's base URL: http or https, a host, no query.
func parseBase(base string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: want a server like http://127.0.0.1:4343, got %q", ErrBadURL, base)
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}
