package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Known answers, also in docs/FORMAT.md: the key is the bytes 0..31, the IV
// a0..ab, the salt 50..5f.
const (
	vectorKey       = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	vectorPlaintext = "hello, pasteur\r\n\t🦀\n"
	vectorKeyOnly   = "v1.oKGio6Slpqeoqaqr.jn0QQSrnIs8DFvO2cgjN1HlcxrYSvTgLNbEoxU9R7RRNLPDEQ_8"
	vectorPassword  = "v1.oKGio6Slpqeoqaqr.abw7Z3kCmDmZUrfqvv3iIPGeZsvrwbR43JJMTDyCHEW4W8Pgqao.100000.UFFSU1RVVldYWVpbXF1eXw"
	// Written by the page script (paste/web/static/js/seal.js) with the
	// password "pw" under vectorKey.
	vectorFromJS = "v1.K9RMAVVAPOIi6avj.I0hqJKu9D_iEAgZn9TaQLrVMivyjAoman_rYG_yRykaCAQvKQ9c.100000.m_02Nhz1axXxtY5EUch4uQ"
)

func vectorEnvelope(password string) *Envelope {
	e := &Envelope{IV: []byte{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab}}
	if password != "" {
		e.Iterations = 100_000
		e.Salt = []byte{0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f}
	}
	return e
}

func TestKnownAnswers(t *testing.T) {
	k, err := ParseKey(vectorKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := range k {
		if k[i] != byte(i) {
			t.Fatalf("key byte %d is %d", i, k[i])
		}
	}
	for _, tt := range []struct{ password, want string }{{"", vectorKeyOnly}, {"correct horse", vectorPassword}} {
		got, err := vectorEnvelope(tt.password).seal([]byte(vectorPlaintext), k, tt.password)
		if err != nil || got != tt.want {
			t.Errorf("seal with %q: got %s, %v; want %s", tt.password, got, err, tt.want)
		}
		pt, err := Open(tt.want, k, tt.password)
		if err != nil || string(pt) != vectorPlaintext {
			t.Errorf("open with %q: got %q, %v", tt.password, pt, err)
		}
	}
	if pt, err := Open(vectorFromJS, k, "pw"); err != nil || string(pt) != vectorPlaintext {
		t.Errorf("open the page script's envelope: %q, %v", pt, err)
	}
}

func TestRoundTrip(t *testing.T) {
	texts := [][]byte{
		[]byte("x"),
		[]byte("a\r\nb\tc 🦀 ünïcödé\n"),
		bytes.Repeat([]byte("0123456789abcdef"), 1<<16), // 1 MiB
	}
	for _, password := range []string{"", "pässwörd 🔑"} {
		for _, pt := range texts {
			k, err := NewKey()
			if err != nil {
				t.Fatal(err)
			}
			env, err := SealIterations(pt, k, password, MinIterations)
			if err != nil {
				t.Fatal(err)
			}
			if len(env) > MaxLen(len(pt)) {
				t.Errorf("envelope of %d bytes is %d long, over MaxLen %d", len(pt), len(env), MaxLen(len(pt)))
			}
			e, err := Parse(env)
			if err != nil || e.PlaintextLen() != len(pt) || e.NeedsPassword() != (password != "") || e.String() != env {
				t.Fatalf("parse: %v %+v", err, e)
			}
			got, err := Open(env, k, password)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("open with %q: %v", password, err)
			}
		}
	}
}

func TestFreshIVAndSalt(t *testing.T) {
	k, _ := NewKey()
	a, _ := SealIterations([]byte("same"), k, "pw", MinIterations)
	b, _ := SealIterations([]byte("same"), k, "pw", MinIterations)
	ea, _ := Parse(a)
	eb, _ := Parse(b)
	if bytes.Equal(ea.IV, eb.IV) || bytes.Equal(ea.Salt, eb.Salt) || a == b {
		t.Fatal("two seals share an IV or a salt")
	}
}

func TestOpenFailures(t *testing.T) {
	k, _ := ParseKey(vectorKey)
	other, _ := NewKey()
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name     string
		env      string
		key      Key
		password string
		want     error
	}{
		{"wrong key", vectorKeyOnly, other, "", ErrDecrypt},
		{"wrong password", vectorPassword, k, "Correct horse", ErrDecrypt},
		{"no password", vectorPassword, k, "", ErrPasswordRequired},
		{"altered ciphertext", flip(vectorKeyOnly, 20), k, "", ErrDecrypt},
		{"altered iv", flip(vectorKeyOnly, 4), k, "", ErrDecrypt},
		{"altered iterations", strings.Replace(vectorPassword, ".100000.", ".100001.", 1), k, "correct horse", ErrDecrypt},
		{"not an envelope", "hello", k, "", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Open(tt.env, tt.key, tt.password); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// A password on a paste that has none is ignored.
	if pt, err := Open(vectorKeyOnly, k, "extra"); err != nil || string(pt) != vectorPlaintext {
		t.Fatalf("extra password: %v", err)
	}
}

func TestParseRefusals(t *testing.T) {
	iv := "oKGio6Slpqeoqaqr"
	ct := "jn0QQSrnIs8DFvO2cgjN1HlcxrYSvTgLNbEoxU9R7RRNLPDEQ_8"
	salt := "UFFSU1RVVldYWVpbXF1eXw"
	for _, s := range []string{
		"",
		"v1",
		"v2." + iv + "." + ct,
		"v1." + iv,
		"v1." + iv + "." + ct + ".100000",
		"v1." + iv + "." + ct + ".100000." + salt + ".x",
		"v1." + iv + "=." + ct,                         // padding
		"v1." + iv + "." + ct + "\n",                   // newline
		"v1." + iv + "." + ct[:len(ct)-1] + "+",        // standard base64
		"v1.oKGio6Slpqeoqaq." + ct,                     // short iv
		"v1." + iv + ".AAAA",                           // no tag
		"v1." + iv + "." + ct + ".99999." + salt,       // too few iterations
		"v1." + iv + "." + ct + ".0100000." + salt,     // not canonical
		"v1." + iv + "." + ct + ".10000001." + salt,    // too many
		"v1." + iv + "." + ct + ".100000.UFFSU1RVVldY", // short salt
		"v1." + iv + "." + ct[:len(ct)-1] + "9",        // non-zero trailing bits
		" v1." + iv + "." + ct,
	} {
		if _, err := Parse(s); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) = %v, want ErrFormat", s, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	k, _ := NewKey()
	if got, err := ParseKey(k.String()); err != nil || got != k || len(k.String()) != 43 {
		t.Fatalf("round trip: %v", err)
	}
	for _, s := range []string{"", vectorKey[:42], vectorKey + "A", vectorKey[:42] + "=", vectorKey[:42] + "+", vectorKey[:42] + "h", vectorKey[:20] + "\n" + vectorKey[20:]} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}

func TestSealIterationBounds(t *testing.T) {
	k, _ := NewKey()
	for _, n := range []int{0, MinIterations - 1, MaxIterations + 1} {
		if _, err := SealIterations([]byte("x"), k, "pw", n); err == nil {
			t.Errorf("%d iterations accepted", n)
		}
	}
	if _, err := SealIterations([]byte("x"), k, "", 0); err != nil {
		t.Errorf("iterations matter only with a password: %v", err)
	}
}
