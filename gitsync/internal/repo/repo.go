// Package repo is pasteur's local Git repository: pastes written as blobs,
// trees and commits on one branch with go-git's plumbing, in the layout of
// docs/FORMAT.md, made durable with fsync on disk; commits replayed onto
// another line of history; the packs pushed, and the packs fetched, which
// it indexes itself.
//
// Objects written between two flushes are kept in memory (batch.go) and
// written as one pack of pasteur's own encoding (pack.go) with the index
// pasteur writes, as it does for fetched packs (packin.go): go-git's
// storage never writes a pack here, and never fsyncs (disk.go).
package repo

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/pasteur-dev/pasteur/paste"
)

// Repo is the local repository: go-git's storage, plus what makes its
// writes durable on disk. It is not safe for concurrent use; its owner
// guards it, and does not hold it across network I/O.
type Repo struct {
	st         storage.Storer // through batch
	fs         *filesystem.Storage
	files      billy.Filesystem // fs's: the directory, or one in memory
	batch      *batch           // objects written since the last flush
	disk       *disk            // fsyncs; nil in memory
	small      []smallPack      // what flush wrote since the last merge
	smallBytes int              // their size
	trees      *treeCache
	// lastCommit's tree is lastTree: the id check of every new paste
	// starts from the same tip.
	lastCommit, lastTree plumbing.Hash
	limits               Limits
	mergeDepth           int                             // maxMergeDepth
	versions             map[plumbing.Hash]plumbing.Hash // what each object written since the last merge replaces
	staging              stagingSet                      // packs installed by a Staged not finished (repack.go)
	// ids answers the id checks of new pastes without their leaves
	// (idfilter.go): nil until a walk of every tree made it (idsNext,
	// filled by Entries between StartIDs and EndIDs).
	ids, idsNext *idFilter
	// idsLost is signalled when a filter in use is dropped (DropIDs):
	// the store walks every tree again to make another.
	idsLost chan struct{}
	// What the commits CommitPastes wrote added, for pushes (made.go).
	keepRecords bool
	recording   *madeRecord
	made        map[plumbing.Hash]*madeRecord
	madeBytes   int
	// refs are the refs read or written so far: every Create read the
	// branch's file (an open, a read and a close through go-git, 3.6% of
	// the CPU of a create load), and only the Repo writes them.
	refs map[plumbing.ReferenceName]plumbing.Hash
	lock *dirLock // the directory's, held until Close; nil in memory
}

// Open opens the bare repository in dir, or creates it with HEAD on
// branch; dir "" is a repository in memory (the same files, on an
// in-memory filesystem, without fsync). A directory that another Repo,
// of this process or another, has open is refused with an error wrapping
// ErrInUse, before anything in it is touched; Close lets the next Open
// have it.
func Open(dir string, branch plumbing.ReferenceName) (*Repo, error) {
	r := &Repo{trees: newTreeCache(maxCachedEntries), limits: LimitsFor(paste.DefaultMaxSize), mergeDepth: maxMergeDepth,
		versions: make(map[plumbing.Hash]plumbing.Hash), idsLost: make(chan struct{}, 1)}
	if dir == "" {
		r.files = memfs.New()
	} else {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(abs, 0o777); err != nil {
			return nil, err
		}
		if r.lock, err = lockDir(abs); err != nil {
			return nil, err
		}
		r.files = osfs.New(abs)
		r.disk = &disk{dir: abs}
		removeTemp(abs)
	}
	// Packs stay open between reads: go-git otherwise opens the pack file
	// again for every object it reads from it.
	// The trees pasteur reads are kept decoded (trees), and the pastes
	// it serves in front of the store (paste.Cache): go-git's own cache
	// of encoded objects only needs to hold what one read or commit
	// reads more than once, not its default 96 MiB.
	objects := cache.NewObjectLRU(objectCacheSize)
	r.fs = filesystem.NewStorageWithOptions(r.files, objects, filesystem.Options{MaxOpenDescriptors: maxOpenPacks})
	var abs string
	if r.disk != nil {
		abs = r.disk.dir
	}
	r.batch = newBatch(r.fs, r.files, abs, objects)
	r.st = r.batch
	_, err := r.st.Reference(plumbing.HEAD)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, plumbing.ErrReferenceNotFound) {
		r.Close()
		return nil, err
	}
	if err := r.init(branch); err != nil {
		r.Close()
		return nil, fmt.Errorf("init: %w", err)
	}
	return r, nil
}

// init makes an empty bare repository, as git init --bare does.
func (r *Repo) init(branch plumbing.ReferenceName) error {
	if err := r.fs.Init(); err != nil {
		return err
	}
	cfg := config.NewConfig()
	cfg.Core.IsBare = true
	if err := r.st.SetConfig(cfg); err != nil {
		return err
	}
	if err := r.st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, branch)); err != nil {
		return err
	}
	if r.disk != nil {
		return r.disk.fsyncAll()
	}
	return nil
}

// SetLimits sets what a fetched pack, and a paste read back, may cost;
// LimitsFor(paste.DefaultMaxSize) until then.
func (r *Repo) SetLimits(l Limits) { r.limits = l }

// Close closes the repository's files, and lets the next Open have its
// directory.
func (r *Repo) Close() error {
	err := r.batch.closePacks()
	if cerr := r.fs.Close(); err == nil {
		err = cerr
	}
	if cerr := r.lock.unlock(); err == nil {
		err = cerr
	}
	r.lock = nil
	return err
}

// Ref returns the commit ref name points at, ZeroHash when there is none.
func (r *Repo) Ref(name plumbing.ReferenceName) (plumbing.Hash, error) {
	if h, ok := r.refs[name]; ok {
		return h, nil
	}
	ref, err := r.st.Reference(name)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if ref.Type() == plumbing.HashReference {
		r.noteRef(name, ref.Hash(), nil)
	}
	return ref.Hash(), nil
}

// noteRef records that ref name points at h after a write whose error is
// err: on an error, the file is read again next time.
func (r *Repo) noteRef(name plumbing.ReferenceName, h plumbing.Hash, err error) {
	if err != nil {
		delete(r.refs, name)
		return
	}
	if r.refs == nil {
		r.refs = make(map[plumbing.ReferenceName]plumbing.Hash)
	}
	r.refs[name] = h
}

// SetRef durably points ref name at h, or deletes it when h is ZeroHash,
// after making the objects written so far durable.
func (r *Repo) SetRef(name plumbing.ReferenceName, h plumbing.Hash) error {
	err := r.setRef(name, h)
	r.noteRef(name, h, err)
	return err
}

func (r *Repo) setRef(name plumbing.ReferenceName, h plumbing.Hash) error {
	if r.disk != nil && !h.IsZero() {
		// The ref's lock file is fsynced while flush fsyncs the objects;
		// the ref moves only once both are durable.
		u := r.disk.prepareRef(name, h)
		if err := r.flush(); err != nil {
			u.abort()
			return err
		}
		return u.commit()
	}
	if err := r.flush(); err != nil {
		return err
	}
	switch {
	case h.IsZero():
		if err := r.st.RemoveReference(name); err != nil {
			return err
		}
		if r.disk != nil {
			return r.disk.fsyncRefDir(name)
		}
		return nil
	default:
		return r.st.SetReference(plumbing.NewHashReference(name, h))
	}
}

// Objects written between two flushes (a commit, or a group's) become one
// pack when they are more than looseMax, else loose files. mergePacks
// packs, mergeLoose flushes, or packs of mergeBytes are merged into one pack
// (merge.go), so that packs and loose files do not pile up; their entries
// wait in memory till then.
const (
	looseMax   = 8
	mergePacks = 32
	// mergeLoose: a merge makes go-git read every pack's index again
	// (0.5 s of CPU at 1M pastes, a 75 MB index), which a merge every 32
	// single pastes made 17 ms of each; their loose files, 5-6 a paste,
	// wait for this many flushes.
	mergeLoose   = 1024
	mergeBytes   = 32 << 20
	maxOpenPacks = 64
	// maxCachedEntries bounds the decoded trees kept, by their entries
	// (~100-160 bytes each decoded, 13-20 MB in all, under load; a
	// settle keeps the upper levels only): every directory of a
	// repository of up to ~60,000 pastes, the upper levels and the
	// leaves in use of a larger one (a leaf holds ~77 pastes at 100,000).
	// At 64k, past ~30,000 pastes the id check and the commit behind the
	// log read most leaves back from the packs (12% of the CPU of a
	// create load at 60,000).
	maxCachedEntries = 128 << 10
	// objectCacheSize bounds go-git's cache of encoded objects.
	objectCacheSize = 2 * cache.MiByte
)

// flush makes the objects written so far durable: loose objects, or one
// packfile, fsynced.
func (r *Repo) flush() error {
	if len(r.batch.order) == 0 {
		return nil
	}
	entries, err := r.batch.entries()
	if err != nil {
		return err
	}
	if len(r.batch.order) <= looseMax {
		for _, h := range r.batch.order {
			if _, err := r.fs.SetEncodedObject(r.batch.objs[h]); err != nil {
				return err
			}
		}
		if r.disk != nil {
			if err := r.disk.fsyncObjects(r.batch.order); err != nil {
				return err
			}
		}
		r.small = append(r.small, smallPack{entries: entries})
		r.batch.reset(nil)
		return r.mergeIfDue()
	}
	pack, objs := assemblePack(entries)
	if err := r.putPack(pack, objs); err != nil {
		return err
	}
	r.small = append(r.small, smallPack{sum: packSum(pack), entries: entries})
	r.smallBytes += len(pack)
	r.batch.reset(pack)
	return r.mergeIfDue()
}

// Has reports whether object h is in the repository.
func (r *Repo) Has(h plumbing.Hash) bool {
	return r.st.HasEncodedObject(h) == nil
}

// put stores an object made by encode (object.Tree.Encode, ...).
func (r *Repo) put(encode func(plumbing.EncodedObject) error) (plumbing.Hash, error) {
	o := r.st.NewEncodedObject()
	if err := encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.st.SetEncodedObject(o)
}

// putBlob stores data as a blob.
func (r *Repo) putBlob(data []byte) (plumbing.Hash, error) {
	return r.put(func(o plumbing.EncodedObject) error {
		o.SetType(plumbing.BlobObject)
		w, err := o.Writer()
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		return w.Close()
	})
}

// putPack stores a packfile that pasteur assembled, whose objects are objs
// (in the pack's order), with the index pasteur writes for it, durably,
// and reads it from then on.
func (r *Repo) putPack(pack []byte, objs []packObj) error {
	sum := packSum(pack)
	slices.SortFunc(objs, byHash)
	var idx bytes.Buffer
	if err := writeIdx(&idx, objs, sum); err != nil {
		return err
	}
	p := &Received{mem: pack, memIdx: idx.Bytes(), sum: sum, size: int64(len(pack))}
	if r.disk != nil {
		p = &Received{dir: filepath.Join(r.disk.dir, "objects"), sum: sum}
		if err := p.writeMade(pack, idx.Bytes()); err != nil {
			p.Discard()
			return err
		}
	}
	if err := r.install(p); err != nil {
		return err
	}
	return r.batch.readPack(r.packPath(sum))
}

// packSum is the checksum of a packfile, its last 20 bytes, which names it.
func packSum(pack []byte) plumbing.Hash {
	return plumbing.Hash(pack[len(pack)-sha1.Size:])
}

// packPath is the path of pack sum in the repository's files, without its
// extension.
func (r *Repo) packPath(sum plumbing.Hash) string {
	return r.files.Join("objects", "pack", "pack-"+sum.String())
}

// commit reads commit h.
func (r *Repo) commit(h plumbing.Hash) (*object.Commit, error) {
	c, err := object.GetCommit(r.st, h)
	return c, missing(h, err)
}

// treeOf returns the tree of commit h, ZeroHash for no commit.
func (r *Repo) treeOf(h plumbing.Hash) (plumbing.Hash, error) {
	if h.IsZero() {
		return plumbing.ZeroHash, nil
	}
	if h == r.lastCommit {
		return r.lastTree, nil
	}
	c, err := r.commit(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	r.lastCommit, r.lastTree = h, c.TreeHash
	return c.TreeHash, nil
}

// tree reads tree h, through the cache of decoded trees.
func (r *Repo) tree(h plumbing.Hash) (*object.Tree, error) {
	if t, ok := r.trees.get(h); ok {
		return t, nil
	}
	t, err := r.getTree(h)
	if err != nil {
		return nil, missing(h, err)
	}
	r.cacheTree(h, t)
	return t, nil
}

// cacheTree keeps tree t, whose hash is h, decoded (treeCache).
func (r *Repo) cacheTree(h plumbing.Hash, t *object.Tree) { r.trees.put(h, t) }

// treeOnce reads tree h as tree does, without keeping it: a purge reads
// each tree of the history once, and would otherwise push out of the cache
// the trees that pastes need.
func (r *Repo) treeOnce(h plumbing.Hash) (*object.Tree, error) {
	if t, ok := r.trees.get(h); ok {
		return t, nil
	}
	t, err := r.getTree(h)
	return t, missing(h, err)
}
