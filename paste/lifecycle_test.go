package paste

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestDeleteToken: a token is 16 random bytes in unpadded base64url, and
// its hash is "sha256:" and the hex SHA-256 of its text, as stored pastes
// keep it.
func TestDeleteToken(t *testing.T) {
	if got, want := HashToken("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("HashToken(abc) = %q, want %q", got, want)
	}
	token, hash, err := NewDeleteToken()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(b) != tokenBytes {
		t.Fatalf("token %q: %d bytes, %v", token, len(b), err)
	}
	if hash != HashToken(token) || !strings.HasPrefix(hash, "sha256:") {
		t.Fatalf("hash %q of token %q", hash, token)
	}
	if p := (&Paste{DeleteHash: hash}); !p.TokenMatches(token) || p.TokenMatches(token+"x") {
		t.Fatal("TokenMatches")
	}
}
