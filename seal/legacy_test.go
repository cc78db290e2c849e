package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// The original's test vectors of docs/FORMAT.md, made by chromium's
// WebCrypto the original's way (e2e.TestLegacyVectors checks that they
// still are): key 0x00 … 0x0f, the text below, the fixed IV, and the IV
// 0xa0 … 0xaf in front for the newest version.
const (
	legacyText     = "hello, pasteur\r\n\t🦀\n"
	legacyFragment = "eyJhbGciOiJBMTI4Q0JDIiwiZXh0Ijp0cnVlLCJrIjoiQUFFQ0F3UUZCZ2NJQ1FvTERBME9EdyIsImtleV9vcHMiOlsiZW5jcnlwdCIsImRlY3J5cHQiXSwia3R5Ijoib2N0In0="
	legacyFixed    = "6e9a69f7135407605f709b0719a118894192c7a2f316154eb17781f114b051e2"
	legacyNewest   = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf43a23809a0c26bc7161d8ada90cfd9de89655d74f19e1b7dda9fa489d57668f1"
)

func TestLegacyVectors(t *testing.T) {
	key, err := ParseLegacyKey(legacyFragment)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}; !bytes.Equal(key, want) {
		t.Fatalf("key %x", key)
	}
	for _, c := range []string{legacyFixed, legacyNewest, strings.ToUpper(legacyFixed)} {
		got, err := OpenLegacy(c, key)
		if err != nil || string(got) != legacyText {
			t.Errorf("OpenLegacy(%s) = %q, %v", c, got, err)
		}
	}
	if !IsLegacyKey(legacyFragment) || IsLegacyKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8") {
		t.Error("IsLegacyKey")
	}
}

// encryptLegacy is the original's encryption in Go, for the tests.
func encryptLegacy(t testing.TB, text string, key []byte, iv []byte) string {
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	n := aes.BlockSize - len(text)%aes.BlockSize
	pt := append([]byte(text), bytes.Repeat([]byte{byte(n)}, n)...)
	use, prefix := LegacyIV[:], []byte(nil)
	if iv != nil {
		use, prefix = iv, iv
	}
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(block, use).CryptBlocks(ct, pt)
	return hex.EncodeToString(append(prefix, ct...))
}

func TestOpenLegacy(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	iv := bytes.Repeat([]byte{0x99}, 16)
	for _, text := range []string{
		"a", "exactly 16 bytes", "\x1b[32mgreen\x1b[0m and a longer line after it\n",
		"ünïcödé 日本語 😀 over several blocks, with a line end\r\n", strings.Repeat("x", 1000),
	} {
		for _, v := range [][]byte{nil, iv} {
			got, err := OpenLegacy(encryptLegacy(t, text, key, v), LegacyKey(key))
			if err != nil || string(got) != text {
				t.Errorf("iv %x, %q: got %q, %v", v, text, got, err)
			}
		}
	}
	// A wrong key fails, rather than giving garbage.
	wrong := bytes.Repeat([]byte{8}, 16)
	fails := 0
	for i := 0; i < 200; i++ {
		c := encryptLegacy(t, strings.Repeat("text ", i+1), key, nil)
		if _, err := OpenLegacy(c, LegacyKey(wrong)); errors.Is(err, ErrDecrypt) {
			fails++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if fails != 200 {
		t.Errorf("a wrong key opened %d of 200 pastes", 200-fails)
	}
	for _, bad := range []string{"", "abc", "zz" + legacyFixed[2:], legacyFixed[:30], "v1.AAAA.BBBB"} {
		if _, err := OpenLegacy(bad, LegacyKey(key)); !errors.Is(err, ErrFormat) {
			t.Errorf("OpenLegacy(%q): %v, want ErrFormat", bad, err)
		}
	}
}

func TestParseLegacyKey(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	for _, tt := range []struct {
		frag string
		ok   bool
	}{
		{legacyFragment, true},
		{strings.TrimRight(legacyFragment, "="), true},
		{base64.RawURLEncoding.EncodeToString([]byte(`{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODw"}`)), true},
		{b64([]byte(`{"kty":"oct","alg":"A256CBC","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}`)), true},
		{b64([]byte(`{"kty":"oct","alg":"A256CBC","k":"AAECAwQFBgcICQoLDA0ODw"}`)), false},
		{b64([]byte(`{"kty":"RSA","k":"AAECAwQFBgcICQoLDA0ODw"}`)), false},
		{b64([]byte(`{"kty":"oct","k":"AAECAwQFBgcICQoLDA0O"}`)), false},
		{b64([]byte(`[]`)), false},
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", false},
		{"", false},
		{"%%%", false},
	} {
		_, err := ParseLegacyKey(tt.frag)
		if (err == nil) != tt.ok {
			t.Errorf("ParseLegacyKey(%q): %v", tt.frag, err)
		}
		if err != nil && !errors.Is(err, ErrLegacyKey) {
			t.Errorf("ParseLegacyKey(%q): %v, not ErrLegacyKey", tt.frag, err)
		}
	}
}

// FuzzParseLegacyKey: the fragment parser refuses with ErrLegacyKey or
// returns a key of an AES size.
func FuzzParseLegacyKey(f *testing.F) {
	for _, s := range []string{legacyFragment, strings.TrimRight(legacyFragment, "="), "", "e30=", "eyJrdHkiOiJvY3QifQ", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "-_-_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseLegacyKey(s)
		if err != nil {
			if !errors.Is(err, ErrLegacyKey) {
				t.Fatalf("ParseLegacyKey(%q): %v", s, err)
			}
			return
		}
		if n := len(k); n != 16 && n != 24 && n != 32 {
			t.Fatalf("ParseLegacyKey(%q): %d bytes", s, n)
		}
		if !IsLegacyKey(s) {
			t.Fatalf("ParseLegacyKey(%q) reads a key that IsLegacyKey refuses", s)
		}
	})
}

// FuzzOpenLegacy: hex contents are refused with ErrFormat or ErrDecrypt,
// or open to UTF-8 text; ParseLegacy round-trips what it accepts.
func FuzzOpenLegacy(f *testing.F) {
	for _, s := range []string{legacyFixed, legacyNewest, "", "00", strings.Repeat("0", 32), strings.Repeat("g", 32), legacyFixed[:31] + "G"} {
		f.Add(s)
	}
	key := LegacyKey([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Fuzz(func(t *testing.T, s string) {
		ct, err := ParseLegacy(s)
		if err == nil && hex.EncodeToString(ct) != strings.ToLower(s) {
			t.Fatalf("ParseLegacy(%q) = %x", s, ct)
		}
		got, err := OpenLegacy(s, key)
		switch {
		case err == nil && !utf8.Valid(got):
			t.Fatalf("OpenLegacy(%q) = %q, not UTF-8", s, got)
		case err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrDecrypt):
			t.Fatalf("OpenLegacy(%q): %v", s, err)
		}
	})
}
