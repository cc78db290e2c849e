package repo

// Settle gives back what the repository keeps in memory to go faster
// under load, for when its owner goes idle: the entries of the packs
// waiting for a merge (up to stagedMergeBytes, or mergeBytes with a
// remote) are merged now rather than at the next burst's threshold; of
// the decoded trees (up to maxCachedEntries entries, 6-10 MB) only the
// tip's root and the trees it names stay, the levels every id check
// starts from (in a large repository the cache holds no more than those
// and the leaves in use); go-git's object cache, the blocks of the pack
// files, the objects rebuilt from deltas and the packs' indexes held in
// memory are dropped. It costs one
// merge of what waits, and nothing when nothing was written since the
// last Settle.
func (r *Repo) Settle() error {
	if len(r.small) > 0 {
		if err := r.mergeSmall(); err != nil {
			return err
		}
	}
	r.trees.trim(r.lastTree)
	r.dropRecords()
	r.batch.cache.Clear()
	return r.batch.packs.settle()
}
