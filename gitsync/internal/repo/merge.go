package repo

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// What flush writes is merged into one pack every mergePacks flushes:
// the packs and the loose objects it wrote since the last merge. A paste
// rewrites every tree on its path, whole, as git stores objects outside
// packs and as a pack must hold the base of each of its deltas. In the
// merged pack, each tree and commit whose earlier version (what the
// parent commit held at its path, the parent) comes before it goes as a
// delta against that version (OFS_DELTA), when that is smaller: the root
// and the directories near it, which most pastes of a merge rewrite, stay
// on disk as what changed. A version whose predecessor was merged before,
// or came with a fetch, stays whole.

// maxMergeDepth bounds the chains of deltas in a merged pack: reading the
// newest root applies that many deltas at most. (Repo.mergeDepth, which
// tests set to 0 for merged packs of whole objects.)
const maxMergeDepth = 10

// smallPack is what one flush wrote: a pack (sum), or loose objects (sum
// zero), and its objects as entries.
type smallPack struct {
	sum     plumbing.Hash
	entries []packEntry
}

// mergeIfDue merges what flush wrote once it is mergePacks flushes or
// mergeBytes of packs.
func (r *Repo) mergeIfDue() error {
	if len(r.small) >= mergePacks || r.smallBytes >= mergeBytes {
		return r.mergeSmall()
	}
	return nil
}

// mergeSmall writes the objects that flush wrote since the last merge
// into one pack, fsynced, and then deletes their packs and loose files.
func (r *Repo) mergeSmall() error {
	var entries []packEntry
	for _, p := range r.small {
		entries = append(entries, p.entries...)
	}
	pack, objs, err := r.deltaPack(entries)
	if err != nil {
		return fmt.Errorf("merge packs: %w", err)
	}
	if err := r.putPack(pack, objs, false); err != nil {
		return fmt.Errorf("merge packs: %w", err)
	}
	if err := r.batch.closePacks(); err != nil {
		return fmt.Errorf("merge packs: %w", err)
	}
	for _, p := range r.small {
		if !p.sum.IsZero() {
			if err := r.fs.DeleteOldObjectPackAndIndex(p.sum, time.Time{}); err != nil {
				return fmt.Errorf("merge packs: %w", err)
			}
			continue
		}
		for _, e := range p.entries {
			// The pack is durable: a crash before this leaves copies.
			if err := r.fs.DeleteLooseObject(e.hash); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("merge packs: %w", err)
			}
		}
	}
	clear(r.small)
	r.small, r.smallBytes = r.small[:0], 0
	// go-git reads the merged pack from here on, as every pack it finds.
	r.fs.Reindex()
	return nil
}

// deltaPack returns the packfile of entries, each object once, in the
// order given, with each tree and commit whose earlier version comes
// before it as a delta against it when that is smaller; and its objects
// as the index describes them.
func (r *Repo) deltaPack(entries []packEntry) ([]byte, []packObj, error) {
	bases := make(map[plumbing.Hash]plumbing.Hash)
	for _, e := range entries {
		if plumbing.ObjectType(e.data[0]>>4&7) != plumbing.CommitObject {
			continue
		}
		c, err := r.commit(e.hash)
		if err != nil {
			return nil, nil, err
		}
		if len(c.ParentHashes) != 1 {
			continue
		}
		err = r.commitChanges(c, func(h, before plumbing.Hash) {
			if !before.IsZero() {
				bases[h] = before
			}
		})
		if err != nil {
			return nil, nil, err
		}
	}

	var enc entryEncoder
	pack := make([]byte, 0, 64<<10)
	pack = append(pack, "PACK"...)
	pack = binary.BigEndian.AppendUint32(pack, 2)
	pack = binary.BigEndian.AppendUint32(pack, 0) // the count, below
	type placed struct {
		off   int64
		depth int
	}
	at := make(map[plumbing.Hash]placed, len(entries))
	objs := make([]packObj, 0, len(entries))
	for _, e := range entries {
		if _, ok := at[e.hash]; ok {
			continue
		}
		off, depth := int64(len(pack)), 0
		if b, ok := at[bases[e.hash]]; ok && b.depth < r.mergeDepth {
			o, err := r.st.EncodedObject(plumbing.AnyObject, e.hash)
			if err != nil {
				return nil, nil, err
			}
			delta, ok, err := r.delta(o, bases[e.hash], ofsDeltaSize(off-b.off))
			if err != nil {
				return nil, nil, err
			}
			if ok {
				d, err := enc.entry(e.hash, plumbing.OFSDeltaObject, appendOfsDelta(nil, off-b.off), bytes.NewReader(delta), int64(len(delta)))
				if err != nil {
					return nil, nil, err
				}
				e, depth = d, b.depth+1
			}
		}
		at[e.hash] = placed{off: off, depth: depth}
		objs = append(objs, packObj{off: off, hash: e.hash, crc: crc32.ChecksumIEEE(e.data)})
		pack = append(pack, e.data...)
	}
	binary.BigEndian.PutUint32(pack[8:12], uint32(len(objs)))
	sum := sha1.Sum(pack)
	return append(pack, sum[:]...), objs, nil
}

// appendOfsDelta appends the distance back to an OFS_DELTA's base, as a
// pack entry encodes it (each byte after the first adds one before the
// shift).
func appendOfsDelta(b []byte, dist int64) []byte {
	var buf [10]byte
	i := len(buf) - 1
	buf[i] = byte(dist & 0x7f)
	for dist >>= 7; dist > 0; dist >>= 7 {
		dist--
		i--
		buf[i] = 0x80 | byte(dist&0x7f)
	}
	return append(b, buf[i:]...)
}

// ofsDeltaSize is how many bytes appendOfsDelta takes for dist.
func ofsDeltaSize(dist int64) int { return len(appendOfsDelta(nil, dist)) }
