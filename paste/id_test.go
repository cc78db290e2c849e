package paste

import "testing"

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
