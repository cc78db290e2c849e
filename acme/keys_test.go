package acme

import (
	"strings"
	"testing"
)

func TestKeyFromSeed(t *testing.T) {
	seed := []byte("0123456789abcdef-a-seed")
	a1, err := KeyFromSeed(seed, "account")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := KeyFromSeed(seed, "account")
	c, _ := KeyFromSeed(seed, "certificate")
	other, _ := KeyFromSeed([]byte("0123456789abcdef-b-seed"), "account")
	if !a1.Equal(a2) {
		t.Error("the same seed and purpose gave two keys")
	}
	if a1.Equal(c) || a1.Equal(other) {
		t.Error("another purpose or seed gave the same key")
	}
	if a1.Curve.Params().Name != "P-256" {
		t.Errorf("curve %s, want P-256", a1.Curve.Params().Name)
	}
	// The key round-trips through the cache's encoding.
	pemKey, err := encodeKey(a1)
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := decodeKey(pemKey)
	if err != nil || !samePublicKey(back.Public(), a1.Public()) {
		t.Fatalf("decodeKey: %v", err)
	}
	if _, err := KeyFromSeed([]byte("short"), "account"); err == nil || !strings.Contains(err.Error(), "at least") {
		t.Errorf("a 5-byte seed: %v, want a refusal", err)
	}
}
