package gitsync

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// repo is the local repository: go-git's storage, plus what makes its writes
// durable on disk. It is not safe for concurrent use: Store.mu guards it, and
// it is never used across network I/O.
type repo struct {
	st         storage.Storer // through batch
	fs         *filesystem.Storage
	files      billy.Filesystem // fs's: the directory, or one in memory
	batch      *batch           // objects written since the last sync
	disk       *disk            // fsyncs; nil in memory
	small      []smallPack      // packs written by sync since the last merge
	smallBytes int              // their size
	trees      map[plumbing.Hash]*object.Tree
}

// openRepo opens the bare repository in dir, or creates it with HEAD on
// branch; dir "" is a repository in memory (the same files, on an
// in-memory filesystem, without fsync).
func openRepo(dir string, branch plumbing.ReferenceName) (*repo, error) {
	r := &repo{trees: make(map[plumbing.Hash]*object.Tree)}
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
		r.files = osfs.New(abs)
		r.disk = &disk{dir: abs}
		removeTemp(abs)
	}
	// Packs stay open between reads: go-git otherwise opens the pack file
	// again for every object it reads from it.
	r.fs = filesystem.NewStorageWithOptions(r.files, cache.NewObjectLRUDefault(),
		filesystem.Options{MaxOpenDescriptors: maxOpenPacks})
	r.batch = newBatch(r.fs)
	r.st = r.batch
	_, err := r.st.Reference(plumbing.HEAD)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, plumbing.ErrReferenceNotFound) {
		r.close()
		return nil, err
	}
	if err := r.init(branch); err != nil {
		r.close()
		return nil, fmt.Errorf("init: %w", err)
	}
	return r, nil
}

// init makes an empty bare repository, as git init --bare does.
func (r *repo) init(branch plumbing.ReferenceName) error {
	if r.fs != nil {
		if err := r.fs.Init(); err != nil {
			return err
		}
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
		return r.disk.syncAll()
	}
	return nil
}

func (r *repo) close() error {
	if r.fs != nil {
		return r.fs.Close()
	}
	return nil
}

// ref returns the commit ref name points at, ZeroHash when there is none.
func (r *repo) ref(name plumbing.ReferenceName) (plumbing.Hash, error) {
	ref, err := r.st.Reference(name)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return ref.Hash(), nil
}

// setRef durably points ref name at h, or deletes it when h is ZeroHash,
// after making the objects written so far durable.
func (r *repo) setRef(name plumbing.ReferenceName, h plumbing.Hash) error {
	if err := r.sync(); err != nil {
		return err
	}
	switch {
	case h.IsZero():
		if err := r.st.RemoveReference(name); err != nil {
			return err
		}
		if r.disk != nil {
			return r.disk.syncRefDir(name)
		}
		return nil
	case r.disk != nil:
		return r.disk.setRef(name, h)
	default:
		return r.st.SetReference(plumbing.NewHashReference(name, h))
	}
}

// Objects written between two syncs (a commit, or a group's) become one
// pack when they are more than looseMax, else loose files. Packs written so
// are merged into one every mergePacks, or once they hold mergeBytes, so
// that they do not pile up; their entries wait in memory till then.
const (
	looseMax     = 8
	mergePacks   = 32
	mergeBytes   = 32 << 20
	maxOpenPacks = 64
	// maxCachedTrees bounds the decoded trees kept: at 100,000 pastes a
	// leaf tree holds ~77 entries, some 10 KB decoded.
	maxCachedTrees = 2048
)

// sync makes the objects written so far durable: loose objects, or one
// packfile, fsynced.
func (r *repo) sync() error {
	if r.batch == nil || len(r.batch.order) == 0 {
		return nil
	}
	if len(r.batch.order) <= looseMax {
		for _, h := range r.batch.order {
			if _, err := r.fs.SetEncodedObject(r.batch.objs[h]); err != nil {
				return err
			}
		}
		if r.disk != nil {
			if err := r.disk.syncObjects(r.batch.order); err != nil {
				return err
			}
		}
		r.batch.reset(nil)
		return nil
	}
	entries, err := r.batch.entries()
	if err != nil {
		return err
	}
	pack := assemblePack(entries)
	added, err := r.putPack(pack)
	if err != nil {
		return err
	}
	r.small = append(r.small, smallPack{packs: added, entries: entries})
	r.smallBytes += len(pack)
	r.batch.reset(pack)
	if len(r.small) >= mergePacks || r.smallBytes >= mergeBytes {
		return r.mergeSmall()
	}
	return nil
}

// smallPack is a pack that sync wrote, and its entries.
type smallPack struct {
	packs   []plumbing.Hash
	entries []packEntry
}

// mergeSmall writes the objects of the packs sync wrote into one pack,
// fsynced, and then deletes those packs.
func (r *repo) mergeSmall() error {
	var entries []packEntry
	for _, p := range r.small {
		entries = append(entries, p.entries...)
	}
	if _, err := r.putPack(assemblePack(entries)); err != nil {
		return fmt.Errorf("merge packs: %w", err)
	}
	for _, p := range r.small {
		for _, h := range p.packs {
			if err := r.fs.DeleteOldObjectPackAndIndex(h, time.Time{}); err != nil {
				return fmt.Errorf("merge packs: %w", err)
			}
		}
	}
	clear(r.small)
	r.small, r.smallBytes = r.small[:0], 0
	r.fs.Reindex()
	return nil
}

// has reports whether object h is in the repository.
func (r *repo) has(h plumbing.Hash) bool {
	return r.st.HasEncodedObject(h) == nil
}

// put stores an object made by encode (object.Tree.Encode, ...).
func (r *repo) put(encode func(plumbing.EncodedObject) error) (plumbing.Hash, error) {
	o := r.st.NewEncodedObject()
	if err := encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.st.SetEncodedObject(o)
}

// putBlob stores data as a blob.
func (r *repo) putBlob(data []byte) (plumbing.Hash, error) {
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

// putPack stores the objects of a packfile, and returns the packs it
// added.
func (r *repo) putPack(pack []byte) ([]plumbing.Hash, error) {
	var before map[string]bool
	if r.disk != nil {
		var err error
		if before, err = r.disk.packs(); err != nil {
			return nil, err
		}
	}
	// go-git's PackfileWriter writes the pack and its index.
	if err := packfile.UpdateObjectStorage(r.fs, bytes.NewReader(pack)); err != nil {
		return nil, err
	}
	if r.disk != nil {
		return r.disk.syncNewPacks(before)
	}
	// A pack is named after its checksum, its last 20 bytes.
	return []plumbing.Hash{plumbing.Hash(pack[len(pack)-20:])}, nil
}

// commit reads commit h.
func (r *repo) commit(h plumbing.Hash) (*object.Commit, error) {
	return object.GetCommit(r.st, h)
}

// treeOf returns the tree of commit h, ZeroHash for no commit.
func (r *repo) treeOf(h plumbing.Hash) (plumbing.Hash, error) {
	if h.IsZero() {
		return plumbing.ZeroHash, nil
	}
	c, err := r.commit(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return c.TreeHash, nil
}

// tree reads tree h, through the cache of decoded trees.
func (r *repo) tree(h plumbing.Hash) (*object.Tree, error) {
	if t, ok := r.trees[h]; ok {
		return t, nil
	}
	t, err := object.GetTree(r.st, h)
	if err != nil {
		return nil, err
	}
	r.cacheTree(h, t)
	return t, nil
}

// cacheTree keeps tree t, whose hash is h, decoded. The cache is emptied
// when full: the trees a commit reads (the root, the 36 directories under
// it and the leaves its pastes go to) come back at once.
func (r *repo) cacheTree(h plumbing.Hash, t *object.Tree) {
	if len(r.trees) >= maxCachedTrees {
		clear(r.trees)
	}
	r.trees[h] = t
}
