package repo

import "slices"

// Settle gives back what the repository keeps in memory to go faster
// under load, for when its owner goes idle: the entries of the packs
// waiting for a merge (up to stagedMergeBytes, or mergeBytes with a
// remote) are merged now rather than at the next burst's threshold; of
// the decoded trees (up to maxCachedEntries entries, 6-10 MB) only the
// tip's root and the trees it names stay, the levels every id check
// starts from (in a large repository the cache holds no more than those
// and the leaves in use); go-git's object cache, the blocks of the pack
// files, the objects rebuilt from deltas and the packs' indexes held in
// memory are dropped, and the maps of the objects being written shrunk
// to what they hold. It costs one merge of what waits, and the next read
// lists the packs and reads their small indexes again.
func (r *Repo) Settle() error {
	if len(r.small) > 0 {
		if err := r.mergeSmall(); err != nil {
			return err
		}
	}
	r.trees.trim(r.lastTree)
	r.dropRecords()
	r.batch.cache.Clear()
	// The maps of a commit's objects keep the room a burst's rounds grew
	// them to (thousands of entries for a round of small pastes), empty
	// or nearly so by now.
	r.versions = shrunk(r.versions)
	r.batch.objs, r.batch.prev = shrunk(r.batch.objs), shrunk(r.batch.prev)
	r.batch.order = slices.Clone(r.batch.order)
	return r.batch.packs.settle()
}

// shrunk returns a map of m's entries sized for them: a map keeps the
// room it grew to whatever is deleted from it.
func shrunk[K comparable, V any](m map[K]V) map[K]V {
	n := make(map[K]V, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}
