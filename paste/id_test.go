package paste

import (
	"strings"
	"testing"
)

func TestNewID(t *testing.T) {
	if IDBits(DefaultIDLength) < 64 {
		t.Fatalf("default ids have %.1f bits", IDBits(DefaultIDLength))
	}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id, err := NewID(DefaultIDLength)
		if err != nil || len(id) != DefaultIDLength || !ValidID(id) || seen[id] {
			t.Fatalf("bad id %q: %v", id, err)
		}
		seen[id] = true
	}
	for _, n := range []int{0, -1, MaxIDLength + 1} {
		if _, err := NewID(n); err == nil {
			t.Errorf("NewID(%d) accepted", n)
		}
	}
}

// TestValidIDOriginal: every id the original pasteur could write is read.
func TestValidIDOriginal(t *testing.T) {
	for _, id := range []string{"abc", "Ab3", "ZZZ", "x_-Z", "-abc", "_", "a"} {
		if !ValidID(id) {
			t.Errorf("ValidID(%q) = false", id)
		}
	}
	for _, id := range []string{"a.b", "a/b", "a b", "a~", "é"} {
		if ValidID(id) {
			t.Errorf("ValidID(%q) = true", id)
		}
	}
}

// TestNewIDAlphabet: an id of any length 1..MaxIDLength has that many
// characters, all of idAlphabet, and each character comes up as often as
// any other (the rejection sampling: without it the first 256%36 would
// come up 1/8 more often).
func TestNewIDAlphabet(t *testing.T) {
	count := map[rune]int{}
	total := 0
	for n := 1; n <= MaxIDLength; n++ {
		id, err := NewID(n)
		if err != nil || len(id) != n {
			t.Fatalf("NewID(%d) = %q, %v", n, id, err)
		}
	}
	for total < 36*10000 {
		id, err := NewID(MaxIDLength)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range id {
			if !strings.ContainsRune(idAlphabet, c) {
				t.Fatalf("NewID: %q outside the alphabet", id)
			}
			count[c]++
			total++
		}
	}
	// 10,000 expected each, a standard deviation of about 100.
	want := total / len(idAlphabet)
	for _, c := range idAlphabet {
		if d := count[c] - want; d < -600 || d > 600 {
			t.Errorf("%q came up %d times in %d, want about %d", c, count[c], total, want)
		}
	}
}
