package repo

import (
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
// Memory: ~70 bytes a blob and ~110 a tree (its delta ~40-60), ~300
// objects a group of 64 pastes; records are kept up to maxMadeBytes,
// those a push takes are dropped, and Settle drops the rest.

// maxMadeBytes bounds the memory of the records kept.
const maxMadeBytes = 8 << 20

// madeObject is an object a commit wrote, the object it replaces
// (ZeroHash: none), and the delta that makes it of that one (nil: none
// made).
type madeObject struct {
	hash, base plumbing.Hash
	delta      []byte
}

// madeObjectSize is what a madeObject costs, its delta apart.
const madeObjectSize = 2*20 + 24

// madeRecord is what a commit on parent wrote, in order.
type madeRecord struct {
	parent plumbing.Hash
	objs   []madeObject
	bytes  int
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

// record notes object h, just written, replacing base, in the record
// begun, with the delta that makes it of base (nil: none).
func (r *Repo) record(h, base plumbing.Hash, delta []byte) {
	if r.recording != nil {
		r.recording.objs = append(r.recording.objs, madeObject{h, base, delta})
		r.recording.bytes += madeObjectSize + len(delta)
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
	r.made[commit] = rec
	r.madeBytes += rec.bytes
}

// takeRecord returns the record of commit c, of parent, and drops it.
func (r *Repo) takeRecord(c, parent plumbing.Hash) (*madeRecord, bool) {
	rec, ok := r.made[c]
	if !ok {
		return nil, false
	}
	delete(r.made, c)
	r.madeBytes -= rec.bytes
	return rec, rec.parent == parent
}

// dropRecords drops every record.
func (r *Repo) dropRecords() {
	r.made, r.madeBytes = nil, 0
}
