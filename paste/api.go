package paste

import "time"

// CreateAnswer is the JSON answer to POST / with Accept: application/json:
// the new paste's id and the view options the server kept, as the
// original pasteur answered (options that are off are left out). A client
// builds the paste's URL from it: /CODE?hl=HL&ln=true, or ?raw=true.
type CreateAnswer struct {
	Code string `json:"code"`          // the paste's id
	HL   string `json:"hl,omitempty"`  // the highlight.js language, "" for none or an unknown one
	LN   bool   `json:"ln,omitempty"`  // line numbers were asked for
	Raw  bool   `json:"raw,omitempty"` // the raw view was asked for

	// The paste's life: the token that deletes it (DELETE /CODE with
	// Authorization: Bearer TOKEN, or DeleteTokenHeader), given only here; when it expires; and
	// whether it burns after its first read.
	DeleteToken string     `json:"delete_token,omitempty"`
	Expires     *time.Time `json:"expires,omitempty"`
	Burn        bool       `json:"burn,omitempty"`
}

// DeleteTokenHeader carries a paste's delete token in DELETE /CODE when
// the request's Authorization header is taken by a user's credentials (a
// server on which reading needs a user).
const DeleteTokenHeader = "Pasteur-Delete-Token"
