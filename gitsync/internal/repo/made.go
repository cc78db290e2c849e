package repo

import (
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// A push's thin pack holds, for each commit it carries, the objects the
// commit added with their earlier versions (changesSince). It found them
// by diffing the commit's tree against its parent's, reading the trees
// of both along every changed path; at a million pastes, with the pushes
// of --ack disk seconds behind the commits, those trees had left the
// cache, and the diff read a leaf and the directories above it twice a
// paste (~55% of a push's CPU). The commits pasteur makes know what they
// add as they write it: each records the objects it wrote, in the order
// written, with the version each replaces (madeRecord), and a push takes
// the record instead of the diff. A commit without one (a replay, a
// removal, a fetched commit, a record dropped) is diffed as before.
//
// A record holds every object reachable from the commit's tree that the
// parent's lacks, as the commit wrote them all (blobs, each rewritten
// tree, the commit), plus objects the diff would not send (a tree written
// and rewritten in the same commit; a blob the history held already),
// which the remote takes as it takes any object twice. It leaves out the
// files a split moves into a new directory, which the diff sends: the
// remote has them, reachable from the parent.
//
// A tree's record also holds its delta against the version it replaces,
// made as the commit writes it: the version was just read, and is in the
// cache of decoded trees, where a push seconds later would read both from
// their packs again. The push sends that delta when its base is one it
// may use (thin.go), and reads nothing for it.
//
// Memory: 20 bytes a blob, 48 a tree or commit and its delta (~45), kept
// in exact-size slices: ~200 bytes a paste (measured, 64-paste groups).
// Records are kept up to maxMadeBytes (~40,000 pastes of pushes behind),
// those a push takes are dropped, and Settle drops the rest.

// maxMadeBytes bounds the memory of the records kept.
const maxMadeBytes = 8 << 20

// madeObject is a tree or commit a commit wrote, the object it replaces
// (ZeroHash: none), and where its delta against that one lies in the
// record's deltas (n 0: none made).
type madeObject struct {
	hash, base plumbing.Hash
	off, n     uint32
}

// madeObjectSize is the size of a madeObject: two hashes, two uint32.
const madeObjectSize = 2*20 + 2*4

// madeRecord is what a commit on parent wrote: its blobs, and its trees
// and the commit in the order written (a tree may replace one written
// before it in the same commit).
type madeRecord struct {
	parent plumbing.Hash
	blobs  []plumbing.Hash
	objs   []madeObject
	deltas []byte
}

// bytes is the memory of rec's slices.
func (rec *madeRecord) bytes() int {
	return len(rec.blobs)*len(plumbing.ZeroHash) + len(rec.objs)*madeObjectSize + len(rec.deltas)
}

// delta returns the delta of o, nil when none was made.
func (rec *madeRecord) delta(o madeObject) []byte {
	if o.n == 0 {
		return nil
	}
	return rec.deltas[o.off : o.off+o.n : o.off+o.n]
}

// KeepRecords makes the commits that CommitPastes writes record what
// they add, for the thin packs of pushes (a repository with a remote);
// off, the records are dropped.
func (r *Repo) KeepRecords(on bool) {
	r.keepRecords = on
	if !on {
		r.dropRecords()
	}
}

// startRecord begins the record of a commit on parent, when records are
// kept and there is room.
func (r *Repo) startRecord(parent plumbing.Hash) {
	r.recording = nil
	if r.keepRecords && !parent.IsZero() && r.madeBytes < maxMadeBytes {
		r.recording = &madeRecord{parent: parent}
	}
}

// record notes tree or commit h, just written, replacing base, in the
// record begun, with the delta that makes it of base (nil: none).
func (r *Repo) record(h, base plumbing.Hash, delta []byte) {
	if rec := r.recording; rec != nil {
		o := madeObject{hash: h, base: base}
		if len(delta) > 0 {
			o.off, o.n = uint32(len(rec.deltas)), uint32(len(delta))
			rec.deltas = append(rec.deltas, delta...)
		}
		rec.objs = append(rec.objs, o)
	}
}

// recordBlob notes blob h, just written, in the record begun.
func (r *Repo) recordBlob(h plumbing.Hash) {
	if rec := r.recording; rec != nil {
		rec.blobs = append(rec.blobs, h)
	}
}

// isRecording reports whether a record is begun.
func (r *Repo) isRecording() bool { return r.recording != nil }

// endRecord keeps the record begun as commit's, when commit was written
// (not ZeroHash).
func (r *Repo) endRecord(commit plumbing.Hash) {
	rec := r.recording
	r.recording = nil
	if rec == nil || commit.IsZero() {
		return
	}
	if r.made == nil {
		r.made = make(map[plumbing.Hash]*madeRecord)
	}
	// Kept as long as a push lags: in slices of their length.
	rec.blobs = slices.Clone(rec.blobs)
	rec.objs = slices.Clone(rec.objs)
	rec.deltas = slices.Clone(rec.deltas)
	r.made[commit] = rec
	r.madeBytes += rec.bytes()
}

// takeRecord returns the record of commit c, of parent, and drops it.
func (r *Repo) takeRecord(c, parent plumbing.Hash) (*madeRecord, bool) {
	rec, ok := r.made[c]
	if !ok {
		return nil, false
	}
	delete(r.made, c)
	r.madeBytes -= rec.bytes()
	return rec, rec.parent == parent
}

// dropRecords drops every record.
func (r *Repo) dropRecords() {
	r.made, r.madeBytes = nil, 0
}
