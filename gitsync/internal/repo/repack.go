package repo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// A repack writes the packs of the repository into one pack that holds
// every object once, with its index and reverse index, then deletes them.
// A completion leaves many packs, and the bases that each thin step
// appended whole are copies of objects an earlier pack holds (at 1M
// pastes, 375 MB of packs against the remote's 189 MB).
//
// Objects are copied as they are stored, deltas kept, never inflated: the
// packs are taken oldest first, each in the order of its offsets, and a
// copy of an object that an earlier pack holds is dropped (a k-way merge
// of the indexes, which git sorts by name, finds them). An OFS_DELTA gets
// its distance rewritten: its base is before it in the new pack, the
// base's own copy moved back by what was dropped before it, or the copy
// kept in an earlier pack. A REF_DELTA names its base, which the new pack
// holds. The new index is the same merge again.
//
// Memory stays bounded whatever the objects: the merge reads each index
// through a buffer; the new offset, CRC-32 and position of each object go
// to a temporary file per pack (16 bytes an object, read back by position);
// what moved within the pack being copied is a list of the entries that
// were dropped or changed size (32 bytes each); a pack without a .rev has
// its order built in memory (12 bytes an object of that pack, as
// packIndex.buildRev); a bit an object marks the dropped copies.
//
// In steps, as Staged: PlanRepack (locked) picks the packs and opens
// them; Write (not locked) reads only those files and writes the new pack,
// index and reverse index to temporary files, fsyncs them and renames
// them into objects/pack; Finish (locked) reads the new pack from then on
// and renames the old ones' indexes away; Sync (not locked) deletes them.
// A crash before the new pack's renames leaves temporary files that Open
// removes; after, both copies, which read the same; an old pack whose
// index was renamed away is not read, and the next PlanRepack removes
// it.

// repackBuffer is the buffer of each reader and writer of a repack.
const repackBuffer = 64 << 10

// RepackStats describes a repack.
type RepackStats struct {
	Packs   int   // packs repacked
	Objects int64 // objects of the new pack
	Dropped int64 // copies dropped
	Rebased int64 // deltas whose base's copy was dropped: against the one kept
	Before  int64 // bytes of the packs repacked
	After   int64 // bytes of the new pack
	// PlanTreeDeltas: the trees stored whole that became deltas, and
	// the bytes that saved.
	TreeDeltas, TreeBytes int64
}

// Repacking is a repack between its steps.
type Repacking struct {
	r     *Repo
	dir   string // objects/pack
	srcs  []*repackSrc
	fan   [256]uint32
	sum   plumbing.Hash
	temps []*os.File
	ctx   context.Context // Write's
	gone  []*repackSrc    // taken out by Finish, deleted by Sync
	trees *treeDeltas     // PlanTreeDeltas's rewrite; nil: a repack
	Stats RepackStats
}

// repackSrc is a pack being repacked.
type repackSrc struct {
	sum     plumbing.Hash
	path    string // without extension
	idx     *packIndex
	pack    *os.File
	size    int64
	mtime   time.Time
	dropped []uint64 // by position in the index: the copies dropped
	newMap  *os.File // by position in the index: newRecord
	base    int64    // where its first object went in the new pack
}

// newRecord is where an object went: its offset in the new pack, its
// entry's CRC-32 and its position in the new pack's order.
const newRecord = 16

// stagingSet is the packs that Staged.Write installed and Finish has not
// taken yet: a repack leaves them.
type stagingSet struct {
	mu   sync.Mutex
	sums map[plumbing.Hash]bool
}

func (s *stagingSet) set(h plumbing.Hash, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sums == nil {
		s.sums = make(map[plumbing.Hash]bool)
	}
	if on {
		s.sums[h] = true
	} else {
		delete(s.sums, h)
	}
}

// PlanRepack returns a repack of the packs of the repository when there
// are more than over of them (nil otherwise, and for a repository in
// memory): all but those that flush wrote since the last merge, and
// with geometric, but each pack larger than twice the smaller ones
// together, as git repack --geometric=2 leaves them (so that the
// repacks of a server that keeps writing copy its small packs, not its
// large one, again). It opens their files, so that Write reads them
// without the lock.
func (r *Repo) PlanRepack(over int, geometric bool) (*Repacking, error) {
	if r.disk == nil {
		return nil, nil
	}
	dir := filepath.Join(r.disk.dir, "objects", "pack")
	if err := removeOrphans(dir); err != nil {
		return nil, fmt.Errorf("repack: %w", err)
	}
	names, err := packNames(r.files, r.disk.dir)
	if err != nil {
		return nil, fmt.Errorf("repack: %w", err)
	}
	if len(names) <= max(over, 1) {
		return nil, nil
	}
	leave := r.keptByRepack()
	rp := &Repacking{r: r, dir: dir}
	for _, h := range names {
		if leave[h] {
			continue
		}
		if err := rp.open(h); err != nil {
			rp.Discard()
			return nil, fmt.Errorf("repack: %w", err)
		}
	}
	if geometric {
		rp.leaveLarge()
	}
	if len(rp.srcs) < 2 {
		rp.Discard()
		return nil, nil
	}
	// Oldest first: the bases a thin step appended come after the pack
	// that holds them, mostly as deltas, which are what is kept.
	slices.SortStableFunc(rp.srcs, func(a, b *repackSrc) int { return a.mtime.Compare(b.mtime) })
	rp.Stats.Packs = len(rp.srcs)
	return rp, nil
}

// leaveLarge takes out of the repack each pack larger than twice the
// smaller ones together, from the largest down.
func (rp *Repacking) leaveLarge() {
	slices.SortStableFunc(rp.srcs, func(a, b *repackSrc) int { return cmp.Compare(b.size, a.size) })
	rest := rp.Stats.Before
	for len(rp.srcs) > 1 {
		s := rp.srcs[0]
		if s.size <= 2*(rest-s.size) {
			break
		}
		rest -= s.size
		s.close()
		rp.srcs = rp.srcs[1:]
	}
	rp.Stats.Before = rest
}

// keptByRepack returns the packs a repack leaves: what flush wrote since
// the last merge (merged and deleted then), and what a Staged wrote that
// is not finished.
func (r *Repo) keptByRepack() map[plumbing.Hash]bool {
	leave := make(map[plumbing.Hash]bool)
	for _, p := range r.small {
		if !p.sum.IsZero() {
			leave[p.sum] = true
		}
	}
	r.staging.mu.Lock()
	for h := range r.staging.sums {
		leave[h] = true
	}
	r.staging.mu.Unlock()
	return leave
}

func (rp *Repacking) open(h plumbing.Hash) error {
	rel := rp.r.packPath(h)
	s := &repackSrc{sum: h, path: filepath.Join(rp.dir, "pack-"+h.String())}
	var err error
	if s.idx, err = openPackIndex(rp.r.files, rel); err != nil {
		return err
	}
	rp.srcs = append(rp.srcs, s)
	if s.pack, err = os.Open(s.path + ".pack"); err != nil {
		return err
	}
	fi, err := s.pack.Stat()
	if err != nil {
		return err
	}
	s.size, s.mtime = fi.Size(), fi.ModTime()
	rp.Stats.Before += s.size
	s.dropped = make([]uint64, (s.idx.n+63)/64)
	return nil
}

// removeOrphans removes the packs and reverse indexes in dir that have no
// index: what a crash left of a pack being deleted.
func removeOrphans(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	have := make(map[string]bool)
	for _, e := range ents {
		if base, ok := strings.CutSuffix(e.Name(), ".idx"); ok {
			have[base] = true
		}
	}
	for _, e := range ents {
		name := e.Name()
		base := strings.TrimSuffix(strings.TrimSuffix(name, ".pack"), ".rev")
		if base == name || !strings.HasPrefix(name, "pack-") || have[base] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Finish reads the new pack from here on and takes the packs it holds
// out of the repository (their indexes renamed away; Sync deletes them):
// not those that got into a merge or a stage meanwhile, which the merge
// deletes. It follows a Write that succeeded.
func (rp *Repacking) Finish() error {
	r := rp.r
	leave := r.keptByRepack()
	leave[rp.sum] = true
	rp.closeSrcs()
	if err := r.batch.closePacks(); err != nil {
		return fmt.Errorf("repack: %w", err)
	}
	for _, s := range rp.srcs {
		if leave[s.sum] {
			continue
		}
		// A pack without its index is not read; a crash leaves the
		// index's temporary name to Open and the pack to the next
		// repack (removeOrphans).
		gone := filepath.Join(rp.dir, "tmp_idx_repack_old_"+s.sum.String())
		if err := os.Rename(s.path+".idx", gone); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("repack: %w", err)
		}
		rp.gone = append(rp.gone, s)
	}
	return nil
}

// Sync deletes the packs Finish took out, and makes that durable; it
// runs without the lock (deleting large files takes a while). Until
// then a crash may bring old packs back: copies, which read the same.
func (rp *Repacking) Sync() error {
	for _, s := range rp.gone {
		for _, name := range []string{filepath.Join(rp.dir, "tmp_idx_repack_old_"+s.sum.String()), s.path + ".rev", s.path + ".pack"} {
			if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("repack: %w", err)
			}
		}
	}
	rp.gone = nil
	return fsyncPath(rp.dir)
}

// Discard gives up a repack that is not finished: its temporary files and
// the packs it opened are closed.
func (rp *Repacking) Discard() {
	rp.removeTemps()
	rp.closeSrcs()
}

func (rp *Repacking) closeSrcs() {
	for _, s := range rp.srcs {
		s.close()
	}
}

func (s *repackSrc) close() {
	if s.idx != nil {
		s.idx.Close()
	}
	if s.pack != nil {
		s.pack.Close()
	}
	if s.newMap != nil {
		s.newMap.Close()
	}
}

func (rp *Repacking) removeTemps() {
	for _, f := range rp.temps {
		f.Close()
		_ = os.Remove(f.Name()) // gone once renamed
	}
	rp.temps = nil
}
