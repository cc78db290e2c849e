package repo

// Settle gives back what the repository keeps in memory to go faster
// under load, for when its owner goes idle: the entries of the packs
// waiting for a merge (up to stagedMergeBytes, or mergeBytes with a
// remote) are merged now rather than at the next burst's threshold, and
// the decoded trees (up to maxCachedEntries entries, 6-10 MB) and go-git's
// object cache are dropped; the next id check reads the tip's trees back
// from the packs. It costs one merge of what waits, and nothing when
// nothing was written since the last Settle.
func (r *Repo) Settle() error {
	if len(r.small) > 0 {
		if err := r.mergeSmall(); err != nil {
			return err
		}
	}
	r.trees.drop()
	r.batch.cache.Clear()
	return nil
}
