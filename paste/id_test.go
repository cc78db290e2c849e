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
