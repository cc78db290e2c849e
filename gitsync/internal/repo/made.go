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
// Memory: 44 bytes an object, ~300 objects a group of 64 pastes; at most
// maxMadeObjects (5.5 MiB) are kept, records taken by a push are dropped,
// and Settle drops the rest.

// maxMadeObjects bounds the objects of the records kept.
const maxMadeObjects = 128 << 10

// madeObject is an object a commit wrote, and the object it replaces
// (ZeroHash: none).
type madeObject struct{ hash, base plumbing.Hash }

// madeRecord is what a commit on parent wrote, in order.
type madeRecord struct {
	parent plumbing.Hash
	objs   []madeObject
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
	if r.keepRecords && !parent.IsZero() && r.madeObjects < maxMadeObjects {
		r.recording = &madeRecord{parent: parent}
	}
}

// record notes object h, just written, replacing base, in the record
// begun.
func (r *Repo) record(h, base plumbing.Hash) {
	if r.recording != nil {
		r.recording.objs = append(r.recording.objs, madeObject{h, base})
	}
}

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
	r.madeObjects += len(rec.objs)
}

// takeRecord returns the record of commit c, of parent, and drops it.
func (r *Repo) takeRecord(c, parent plumbing.Hash) (*madeRecord, bool) {
	rec, ok := r.made[c]
	if !ok {
		return nil, false
	}
	delete(r.made, c)
	r.madeObjects -= len(rec.objs)
	return rec, rec.parent == parent
}

// dropRecords drops every record.
func (r *Repo) dropRecords() {
	r.made, r.madeObjects = nil, 0
}
