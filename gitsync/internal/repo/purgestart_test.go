package repo

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/revlist"

	"github.com/pasteur-dev/pasteur/paste"
)

// addPurge adds the objects of purge p, done, to the repository.
func addPurge(t *testing.T, r *Repo, p *Purge) {
	t.Helper()
	pack, err := p.Pack()
	if err != nil {
		t.Fatal(err)
	}
	in, err := r.Receive(bytes.NewReader(pack))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(in); err != nil {
		t.Fatal(err)
	}
}

// purgeOf runs a purge of tip (clean: a past purge's tip) to its end, adds
// its objects to the repository, and returns it.
func purgeOf(t *testing.T, r *Repo, tip, clean plumbing.Hash, opts ...func(*Purge)) *Purge {
	t.Helper()
	p, err := r.NewPurge(tip, clean)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(p)
	}
	for !p.Done() {
		if err := p.Step(3); err != nil {
			t.Fatal(err)
		}
	}
	addPurge(t, r, p)
	return p
}

// TestPurgeFromClean: a purge told a past purge's tip makes the same
// history as one that reads every commit, reads only from the first
// commit that holds a paste removed since (or, when none, from the
// commits after the past purge's tip), and purges a paste made and
// removed after it too.
func TestPurgeFromClean(t *testing.T) {
	r := open(t, t.TempDir())
	p := func(id string) *paste.Paste { return &paste.Paste{ID: id, Contents: []byte("text of " + id)} }
	commit(t, r, p("keep1"))
	commit(t, r, p("secret1"))
	commit(t, r, p("later1"))
	commit(t, r, p("keep2"))
	tip := remove(t, r, "secret1")
	clean := purgeOf(t, r, tip, plumbing.ZeroHash).Tip()
	if err := r.SetRef(master, clean); err != nil {
		t.Fatal(err)
	}

	// Nothing removed since: nothing read, nothing rewritten.
	again := purgeOf(t, r, clean, clean)
	if again.Tip() != clean || again.Stats().Kept != again.Stats().Commits || again.Objects() != 0 {
		t.Errorf("a purge of a clean tip: %s (want %s), %+v, %d objects", again.Tip(), clean, again.Stats(), again.Objects())
	}

	commit(t, r, p("keep3"))
	commit(t, r, p("secret2"))
	commit(t, r, p("keep4"))
	tip = remove(t, r, "later1", "secret2")
	full := purgeOf(t, r, tip, plumbing.ZeroHash)
	marked := purgeOf(t, r, tip, clean)
	if full.Tip() != marked.Tip() {
		t.Fatalf("purged from the mark %s, in full %s", marked.Tip(), full.Tip())
	}
	// keep1, secret1's removal (secret1 gone: the same commit as keep1's),
	// then later1: kept are the commits before later1's.
	if st := marked.Stats(); st.Kept != 1 || st.Commits != 8 {
		t.Errorf("stats from the mark %+v", st)
	}
	if st := full.Stats(); st.Kept != 0 {
		t.Errorf("stats in full %+v", st)
	}
}

// TestPurgeFromCleanRandom: over random histories of pastes, removals and
// purges (grouped commits, leaves that split), a purge from the last
// purge's tip makes the same history as a purge that reads every commit
// (and as one whose memo of filtered trees is emptied every few trees),
// and that history holds no removed paste.
func TestPurgeFromCleanRandom(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 17))
			r := open(t, t.TempDir())
			var live []string
			removed := map[string]plumbing.Hash{}
			clean := plumbing.ZeroHash
			n := 0
			for round := range 12 {
				for range 1 + rng.IntN(4) {
					var group []*paste.Paste
					for range 1 + rng.IntN(40) {
						// Ids of two letters make leaves split soon.
						id := make([]byte, 13)
						for i := range id {
							id[i] = "ab"[rng.IntN(2)]
						}
						id[12] = byte('a' + n%26)
						n++
						group = append(group, &paste.Paste{ID: fmt.Sprintf("%s%d", id, n), Contents: []byte(fmt.Sprint("paste ", n))})
					}
					commit(t, r, group...)
					for _, g := range group {
						live = append(live, g.ID)
					}
				}
				var ids []string
				for range rng.IntN(4) {
					i := rng.IntN(len(live))
					ids = append(ids, live[i])
					live = append(live[:i], live[i+1:]...)
				}
				if len(ids) > 0 {
					tip, _ := r.Ref(master)
					for _, id := range ids {
						_, data, err := r.Locate(tip, id)
						if err != nil {
							t.Fatal(err)
						}
						h, _ := r.putBlob(data)
						removed[id] = h
					}
					remove(t, r, ids...)
				}
				if round%3 != 2 {
					continue
				}
				tip, _ := r.Ref(master)
				full := purgeOf(t, r, tip, plumbing.ZeroHash)
				marked := purgeOf(t, r, tip, clean)
				if full.Tip() != marked.Tip() {
					t.Fatalf("round %d: purged from the mark %s, in full %s (%+v, %+v)", round, marked.Tip(), full.Tip(), marked.Stats(), full.Stats())
				}
				// A memo emptied every few trees changes nothing.
				forgetful := purgeOf(t, r, tip, plumbing.ZeroHash, func(p *Purge) { p.maxMemo = 5 })
				if forgetful.Tip() != full.Tip() || forgetful.Objects() != full.Objects() {
					t.Fatalf("round %d: purged with a small memo %s (%d objects), with the whole memo %s (%d)", round, forgetful.Tip(), forgetful.Objects(), full.Tip(), full.Objects())
				}
				clean = marked.Tip()
				if err := r.SetRef(master, clean); err != nil {
					t.Fatal(err)
				}
				objs, err := revlist.Objects(r.st, []plumbing.Hash{clean}, nil)
				if err != nil {
					t.Fatal(err)
				}
				held := map[plumbing.Hash]bool{}
				for _, o := range objs {
					held[o] = true
				}
				for id, h := range removed {
					if held[h] {
						t.Errorf("round %d: the purged history holds %s", round, id)
					}
				}
				for _, id := range live {
					if _, _, err := r.Locate(clean, id); err != nil {
						t.Errorf("round %d: %s lost: %v", round, id, err)
					}
				}
				t.Logf("round %d: %d commits, %d kept, %d rewritten", round, marked.Stats().Commits, marked.Stats().Kept, marked.Stats().Rewritten)
			}
		})
	}
}

// TestPurgeFromCleanSameText: when a removed paste's text is also another
// paste's, which the tip keeps (the original pasteur stored pastes of the
// same text as one blob), a purge from a past purge's tip does not take
// it out of the tip: it reads everything, and makes what a purge without
// the mark makes.
func TestPurgeFromCleanSameText(t *testing.T) {
	r := open(t, t.TempDir())
	commit(t, r, &paste.Paste{ID: "keep1", Contents: []byte("one")})
	commit(t, r, &paste.Paste{ID: "twin1", Contents: []byte("the same text")})
	clean := commit(t, r, &paste.Paste{ID: "twin2", Contents: []byte("the same text")})
	commit(t, r, &paste.Paste{ID: "keep2", Contents: []byte("two")})
	tip := remove(t, r, "twin1")
	full := purgeOf(t, r, tip, plumbing.ZeroHash)
	marked := purgeOf(t, r, tip, clean)
	if marked.Tip() != full.Tip() {
		t.Errorf("purged from the mark %s, in full %s", marked.Tip(), full.Tip())
	}
	if a, b := mustTree(t, r, tip), mustTree(t, r, marked.Tip()); a != b {
		t.Errorf("the tip's tree changed: %s, %s", a, b)
	}
	if st := marked.Stats(); st.Kept != 0 {
		t.Errorf("stats %+v: the purge did not start over", st)
	}
}
