package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
)

// A paste's life on the website: the expire and burn options of POST /,
// DELETE /ID with the paste's token, and the read that burns.

// lifeOptions are a submission's expiry and burn.
type lifeOptions struct {
	expires time.Time // zero: never
	burn    bool
}

// parseLife reads the expire and burn options (form field or query) of a
// paste submitted at now: expire is "never" or a duration (paste.ParseExpiry),
// the server's default when absent, and at most its maximum.
func (h *Handler) parseLife(pick func(string) (string, bool), now time.Time) (lifeOptions, error) {
	var o lifeOptions
	v, _ := pick("burn")
	o.burn = isOn(v)
	d := h.defaultExpiry
	if v, ok := pick("expire"); ok && strings.TrimSpace(v) != "" {
		var err error
		if d, err = paste.ParseExpiry(v); err != nil {
			return o, badRequest(strings.TrimPrefix(err.Error(), paste.ErrInvalid.Error()+": "))
		}
	}
	if h.maxExpiry > 0 && (d == 0 || d > h.maxExpiry) {
		return o, badRequest(fmt.Sprintf("expire %s is over this server's maximum of %s", paste.FormatExpiry(d), paste.FormatExpiry(h.maxExpiry)))
	}
	if d > 0 {
		o.expires = now.Add(d).UTC().Truncate(time.Second)
	}
	return o, nil
}

// remove answers DELETE /ID with Authorization: Bearer TOKEN (or the
// token in paste.DeleteTokenHeader): 204 once the paste is removed, 403 for a
// wrong (or no) token, 404 for an unknown id, 410 for a paste already
// gone.
func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !paste.ValidID(id) {
		h.fail(w, r, paste.ErrNotFound)
		return
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		token = strings.TrimSpace(r.Header.Get(paste.DeleteTokenHeader))
		ok = token != ""
	}
	p, err := h.store.Get(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !ok || !p.TokenMatches(token) {
		h.fail(w, r, fmt.Errorf("delete %s: %w", id, paste.ErrForbidden))
		return
	}
	if err := h.store.Remove(r.Context(), id, paste.Deleted); err != nil {
		h.fail(w, r, fmt.Errorf("delete %s: %w", id, err))
		return
	}
	h.log.Info("paste deleted", "id", id)
	w.WriteHeader(http.StatusNoContent)
}

// bearer returns the token of an Authorization: Bearer header (the scheme
// in any case, RFC 9110).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// burnRead answers POST /ID, the button of a burn paste's page: it burns
// the paste and shows it, once. Without JavaScript this is the way to read
// a clear paste that burns; the page's script reads the JSON instead. A
// paste that does not burn is refused (405) and left as it is: removing
// it takes its token.
func (h *Handler) burnRead(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !paste.ValidID(id) {
		h.fail(w, r, paste.ErrNotFound)
		return
	}
	// Whether a paste burns never changes: what the view says holds
	// for the Burn that follows.
	p, err := h.view(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !p.Burn {
		w.Header().Set("Allow", "GET, HEAD, DELETE")
		h.fail(w, r, &requestError{http.StatusMethodNotAllowed, "this paste is not deleted by reading it: DELETE it with its token"})
		return
	}
	p, err = h.store.Burn(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("paste burned", "id", id)
	w.Header().Set("Cache-Control", "no-store")
	v := h.pageOf(p, h.language(p.Language), false)
	v.Burned = true
	h.render(w, r, "paste.html", v)
}

// deliver returns the paste to deliver to a reader: p itself, or for a
// paste that burns after reading, the paste as the one Burn that removes it
// returns. A HEAD request delivers nothing and burns nothing.
func (h *Handler) deliver(r *http.Request, p *paste.Paste) (*paste.Paste, error) {
	if !p.Burn || r.Method == http.MethodHead {
		return p, nil
	}
	b, err := h.store.Burn(r.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	h.log.Info("paste burned", "id", p.ID)
	return b, nil
}

// expiries are the choices of the form's expiry chooser: the usual ones
// within the server's maximum, and its default.
func (h *Handler) expiries() []expiry {
	const day = 24 * time.Hour
	choices := []struct {
		d     time.Duration
		title string
	}{{10 * time.Minute, "10 minutes"}, {time.Hour, "1 hour"}, {day, "1 day"}, {7 * day, "1 week"}, {30 * day, "1 month"}, {365 * day, "1 year"}, {0, "Never"}}
	var out []expiry
	seen := false
	for _, c := range choices {
		if h.maxExpiry > 0 && (c.d == 0 || c.d > h.maxExpiry) {
			continue
		}
		def := c.d == h.defaultExpiry
		seen = seen || def
		out = append(out, expiry{Value: paste.FormatExpiry(c.d), Title: c.title, Default: def})
	}
	if !seen {
		out = append([]expiry{{Value: paste.FormatExpiry(h.defaultExpiry), Title: paste.FormatExpiry(h.defaultExpiry), Default: true}}, out...)
	}
	return out
}
