package repo

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-git/go-billy/v5/util"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// A fetched packfile goes to disk as it arrives, and pasteur indexes it
// itself, as git index-pack does. go-git's parser keeps a record, two map
// entries and the children of every object, and every delta base in a
// cache of up to 96 MiB: for the pack of 100,000 pastes (174,000 objects,
// 16 MB) that was 113 MB live and 250 MiB of heap at the peak. Here the
// index comes from one sequential read of the pack and a 40-byte record
// per object; then each delta is read again, with its base (resolved from
// the bottom of its chain up), and only the chain of bases above the
// delta being resolved is held in memory.

// Received is a received packfile, not yet in the repository: in memory for
// a repository in memory, else a pack and its index in temporary files in
// objects/, out of go-git's sight until Add.
type Received struct {
	mem, memIdx []byte        // in memory: the pack and its index
	dir         string        // objects; "" in memory
	pack, idx   string        // the temporary files
	sum         plumbing.Hash // the pack's checksum
	size        int64
	objs        []packObj // sorted by hash; nil for a pack pasteur wrote
}

// Commits returns the number of commits in p, once indexed (0 in a pack
// whose objects were not listed).
func (p *Received) Commits() int {
	n := 0
	for _, o := range p.objs {
		if o.typ == plumbing.CommitObject {
			n++
		}
	}
	return n
}

// Objects returns the number of objects in p, once indexed (0 in a pack
// whose objects were not listed).
func (p *Received) Objects() int { return len(p.objs) }

// Size is the pack's size in bytes.
func (p *Received) Size() int64 { return p.size }

// Open returns a reader of the pack's bytes. Opened before Add, it reads
// the pack after Add too.
func (p *Received) Open() (io.ReadCloser, error) {
	if p.dir == "" {
		return io.NopCloser(bytes.NewReader(p.mem)), nil
	}
	return os.Open(p.pack)
}

// Contains reports whether the pack holds object h.
func (p *Received) Contains(h plumbing.Hash) bool {
	_, found := slices.BinarySearchFunc(p.objs, h, func(o packObj, h plumbing.Hash) int {
		return bytes.Compare(o.hash[:], h[:])
	})
	return found
}

// Receive reads a packfile from rd, and indexes it, within r's Limits: a
// pack beyond them is an error wrapping ErrRefusedPack, and leaves no file
// behind. It touches no state of r but the files it creates, so it may run
// without the lock that guards r.
func (r *Repo) Receive(rd io.Reader) (*Received, error) { return r.ReceiveThin(rd, nil) }

// ReceiveThin is Receive for a pack that may be thin (thin.go): the bases
// of its deltas that it lacks are read with bases and appended to it.
func (r *Repo) ReceiveThin(rd io.Reader, bases Bases) (*Received, error) {
	rd = &cappedReader{r: rd, max: r.limits.Pack}
	if r.disk == nil {
		b, err := io.ReadAll(rd)
		if err != nil {
			return nil, fmt.Errorf("read pack: %w", err)
		}
		var thin *thinPack
		var tail []packEntry
		if bases != nil {
			thin = &thinPack{bases: bases, put: func(e packEntry) error { tail = append(tail, e); return nil }}
		}
		objs, sum, err := indexPack(bytes.NewReader(b), r.limits, int64(len(b)), thin)
		if err != nil {
			return nil, fmt.Errorf("index pack: %w", err)
		}
		if len(tail) > 0 {
			b, sum = appendBases(b, uint32(len(objs)), tail)
		}
		var idx bytes.Buffer
		if err := writeIdx(&idx, objs, sum); err != nil {
			return nil, err
		}
		return &Received{mem: b, memIdx: idx.Bytes(), sum: sum, size: int64(len(b)), objs: objs}, nil
	}
	p := &Received{dir: filepath.Join(r.disk.dir, "objects")}
	if err := p.write(rd, r.limits, bases); err != nil {
		p.Discard()
		return nil, err
	}
	return p, nil
}

// write saves the pack from rd in a temporary file and the index that
// indexPack makes of it within lim in another, and fsyncs the two at once:
// the disk's flushes overlap rather than follow each other. (A pack
// pasteur made in memory is written by writeMade.)
func (p *Received) write(rd io.Reader, lim Limits, bases Bases) error {
	f, err := createTemp(p.dir, "tmp_pack_")
	if err != nil {
		return err
	}
	defer f.Close()
	p.pack = f.Name()
	if p.size, err = io.Copy(f, rd); err != nil {
		return fmt.Errorf("read pack: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var thin *thinPack
	if bases != nil {
		thin = fileThinPack(f, p.size, bases)
	}
	objs, sum, err := indexPack(f, lim, p.size, thin)
	if err != nil {
		return fmt.Errorf("index pack: %w", err)
	}
	if thin != nil && thin.n > 0 {
		if sum, p.size, err = thin.finish(uint32(len(objs))); err != nil {
			return fmt.Errorf("complete thin pack: %w", err)
		}
	}
	p.sum, p.objs = sum, objs

	x, err := createTemp(p.dir, "tmp_idx_")
	if err != nil {
		return err
	}
	defer x.Close()
	p.idx = x.Name()
	if err := writeIdx(x, p.objs, p.sum); err != nil { // buffered: not held whole in memory
		return err
	}
	packErr := make(chan error, 1)
	go func() { packErr <- f.Sync() }()
	return errors.Join(x.Sync(), <-packErr)
}

// removeTemp removes the temporary files that a process writing to the
// repository in dir left when it ended: Receive's before Add, and go-git's
// (objects/pack/tmp_obj_*, empty when the disk was full).
func removeTemp(dir string) {
	for _, pattern := range []string{"tmp_pack_*", "tmp_idx_*", "pack/tmp_obj_*", "pack/tmp_pack_*", "pack/tmp_idx_*"} {
		names, _ := filepath.Glob(filepath.Join(dir, "objects", pattern))
		for _, name := range names {
			_ = os.Remove(name)
		}
	}
}

// Discard removes the temporary files of p, if any are left.
func (p *Received) Discard() {
	for _, name := range []string{p.pack, p.idx} {
		if name != "" {
			_ = os.Remove(name)
		}
	}
}

// Add stores the objects of p in the repository, durably, and removes its
// temporary files.
func (r *Repo) Add(p *Received) error {
	if err := r.install(p); err != nil {
		return err
	}
	return r.batch.readPack(r.packPath(p.sum))
}

// install puts the pack and index of p in objects/pack, durably, where
// go-git finds them when it next lists the packs.
func (r *Repo) install(p *Received) error {
	if p.dir == "" {
		return r.installInMemory(p)
	}
	defer p.Discard()
	dir := filepath.Join(p.dir, "pack")
	_, err := os.Stat(dir)
	made := errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	base := filepath.Join(dir, "pack-"+p.sum.String())
	if _, err := os.Stat(base + ".pack"); err == nil {
		return nil // the same pack is there already
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// The index first: go-git, as git, ignores an index without its pack,
	// not a pack without an index.
	if err := os.Rename(p.idx, base+".idx"); err != nil {
		return err
	}
	if err := os.Rename(p.pack, base+".pack"); err != nil {
		return err
	}
	// The objects directory only needs its own fsync when it got a new
	// pack directory. The temporary names the renames removed from it may
	// come back after a crash; Open removes them (removeTemp).
	if made {
		return fsyncPaths([]string{dir, p.dir})
	}
	return fsyncPath(dir)
}

// installInMemory stores the pack and index of p as files of the repository in
// memory.
func (r *Repo) installInMemory(p *Received) error {
	base := r.packPath(p.sum)
	if _, err := r.files.Stat(base + ".pack"); err == nil {
		return nil
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{base + ".idx", p.memIdx}, {base + ".pack", p.mem}} {
		if err := util.WriteFile(r.files, f.name, f.data, 0o444); err != nil {
			return err
		}
	}
	return nil
}

// packObj is an object of a pack being indexed. Until a delta is resolved,
// its hash is zero and its type the delta's.
type packObj struct {
	off  int64
	hash plumbing.Hash
	crc  uint32
	typ  plumbing.ObjectType
}

// ofsKid and refKid are a delta, by its index in the pack's objects, and
// its base, by offset or by hash.
type (
	ofsKid struct {
		base int64
		i    int
	}
	refKid struct {
		base plumbing.Hash
		i    int
	}
)

func (k ofsKid) cmp(off int64) int       { return cmp.Compare(k.base, off) }
func (k refKid) cmp(h plumbing.Hash) int { return bytes.Compare(k.base[:], h[:]) }
func byHash(a, b packObj) int            { return bytes.Compare(a.hash[:], b.hash[:]) }

// minEntry is the fewest bytes an entry of a pack takes: a header byte
// and a zlib stream (2 bytes of header, an empty block of 2 at least, 4 of
// checksum).
const minEntry = 9

// maxDeltaDepth bounds delta chains, as git's pack-objects does.
const maxDeltaDepth = 4095

// indexer resolves the deltas of a pack, within its limits.
type indexer struct {
	sc       *packfile.Scanner
	objs     []packObj // in the order of the pack
	ofs      []ofsKid  // sorted by base
	ref      []refKid  // sorted by base
	lim      Limits
	inflated budget // bytes inflated and rebuilt so far
	held     int64  // bytes of the bases held by resolve
}

// indexPack reads the pack in f, of size bytes, and returns its objects,
// sorted by hash, and its checksum, verified. A pack beyond lim is an
// error wrapping ErrRefusedPack. With thin, the pack may be thin: the
// bases its deltas lack are read with thin.bases and given to thin.put,
// to be appended to the pack in that order, where objects places them;
// the checksum is then the caller's to compute.
func indexPack(f io.ReadSeeker, lim Limits, size int64, thin *thinPack) (objs []packObj, sum plumbing.Hash, err error) {
	x := indexer{sc: packfile.NewScanner(f), lim: lim,
		inflated: budget{left: lim.inflatedFor(size), what: "the bytes the pack inflates to"}}
	_, n, err := x.sc.Header()
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	// n is a hint: the pack may lie; but no entry takes fewer than
	// minEntry bytes, so that size bounds it, and the list never grows
	// by copies (a pack of a million objects: 40 MB).
	x.objs = make([]packObj, 0, min(int64(n), size/minEntry+1))
	for i := range int(n) {
		oh, err := x.sc.NextObjectHeader()
		if err != nil {
			return nil, plumbing.ZeroHash, err
		}
		if oh.Length > lim.Object {
			return nil, plumbing.ZeroHash, refuse("object at %d declares %d bytes, over the limit of %d", oh.Offset, oh.Length, lim.Object)
		}
		o := packObj{off: oh.Offset, typ: oh.Type}
		switch oh.Type {
		case plumbing.OFSDeltaObject:
			x.ofs = append(x.ofs, ofsKid{oh.OffsetReference, i})
			_, o.crc, err = x.sc.NextObject(x.capped(io.Discard))
		case plumbing.REFDeltaObject:
			x.ref = append(x.ref, refKid{oh.Reference, i})
			_, o.crc, err = x.sc.NextObject(x.capped(io.Discard))
		case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
			h := plumbing.NewHasher(oh.Type, oh.Length)
			_, o.crc, err = x.sc.NextObject(x.capped(h))
			o.hash = h.Sum()
		default:
			err = fmt.Errorf("object at %d: type %d", oh.Offset, oh.Type)
		}
		if err != nil {
			return nil, plumbing.ZeroHash, err
		}
		x.objs = append(x.objs, o)
	}
	sum, err = x.sc.Checksum()
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	if thin != nil {
		// The bases of a thin pack go where its checksum is.
		if end, err := x.sc.SeekFromStart(0); err != nil || end != size {
			return nil, plumbing.ZeroHash, fmt.Errorf("%d bytes after the pack's checksum (%v)", size-end, err)
		}
	}

	slices.SortFunc(x.ofs, func(a, b ofsKid) int { return a.cmp(b.base) })
	slices.SortFunc(x.ref, func(a, b refKid) int { return a.cmp(b.base) })
	for i, o := range x.objs {
		if o.typ.IsDelta() || len(x.kids(i)) == 0 {
			continue
		}
		data, err := x.read(i)
		if err != nil {
			return nil, plumbing.ZeroHash, err
		}
		x.held = int64(len(data))
		if err := x.resolve(i, data, 0); err != nil {
			return nil, plumbing.ZeroHash, err
		}
	}
	if thin != nil {
		if err = x.completeThin(thin, size-sha1.Size); err != nil {
			return nil, plumbing.ZeroHash, err
		}
	}
	for _, o := range x.objs {
		if o.hash.IsZero() && thin != nil {
			return nil, plumbing.ZeroHash, fmt.Errorf("delta at %d: %w", o.off, ErrMissingBase)
		}
		if o.hash.IsZero() {
			return nil, plumbing.ZeroHash, fmt.Errorf("delta at %d: no base in the pack", o.off)
		}
	}
	slices.SortFunc(x.objs, byHash)
	return x.objs, sum, nil
}

// capped returns w, limited to one object's bytes and spending the pack's.
func (x *indexer) capped(w io.Writer) io.Writer {
	return &cappedWriter{w: w, max: x.lim.Object, inflated: &x.inflated}
}

// kids returns the deltas whose base is object i.
func (x *indexer) kids(i int) []int {
	var kids []int
	o := x.objs[i]
	j, _ := slices.BinarySearchFunc(x.ofs, o.off, ofsKid.cmp)
	for ; j < len(x.ofs) && x.ofs[j].base == o.off; j++ {
		kids = append(kids, x.ofs[j].i)
	}
	j, _ = slices.BinarySearchFunc(x.ref, o.hash, refKid.cmp)
	for ; j < len(x.ref) && x.ref[j].base == o.hash; j++ {
		kids = append(kids, x.ref[j].i)
	}
	return kids
}

// resolve computes the hashes of the deltas whose base is object i, whose
// contents are data, and of theirs, depth first. data is counted in
// x.held, and released once its last delta is built: a chain of deltas
// holds one base at a time; only a base with more deltas to build stays
// held while the tree under an earlier one is resolved, and those are
// bounded by Limits.Chain.
func (x *indexer) resolve(i int, data []byte, depth int) error {
	size := int64(len(data))
	defer func() { x.held -= size }()
	if depth > maxDeltaDepth {
		return fmt.Errorf("delta chain at %d longer than %d", x.objs[i].off, maxDeltaDepth)
	}
	kids := x.kids(i)
	for j, k := range kids {
		if !x.objs[k].hash.IsZero() {
			continue // resolved already, through a duplicate of its base
		}
		delta, err := x.read(k)
		if err != nil {
			return err
		}
		src, dst, err := deltaSizes(delta)
		switch {
		case err != nil:
			return fmt.Errorf("delta at %d: %w", x.objs[k].off, err)
		case src != size:
			return fmt.Errorf("delta at %d: for a base of %d bytes, not %d", x.objs[k].off, src, size)
		case dst > x.lim.Object:
			return refuse("delta at %d builds %d bytes, over the limit of %d", x.objs[k].off, dst, x.lim.Object)
		}
		if err := x.inflated.take(dst); err != nil {
			return err
		}
		obj, err := packfile.PatchDelta(data, delta)
		if err != nil {
			return fmt.Errorf("delta at %d: %w", x.objs[k].off, err)
		}
		x.objs[k].typ = x.objs[i].typ
		x.objs[k].hash = plumbing.ComputeHash(x.objs[k].typ, obj)
		if j == len(kids)-1 {
			// The last delta on i: data is no longer needed.
			x.held -= size
			size, data = 0, nil
		}
		if !x.hasKids(k) {
			continue
		}
		if x.held+int64(len(obj)) > x.lim.Chain {
			return refuse("deltas at %d hold more than %d bytes of bases", x.objs[k].off, x.lim.Chain)
		}
		x.held += int64(len(obj))
		if err := x.resolve(k, obj, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// hasKids reports whether some delta has object i as its base.
func (x *indexer) hasKids(i int) bool { return len(x.kids(i)) > 0 }

// read returns the inflated data of object i: its contents, or its delta.
func (x *indexer) read(i int) ([]byte, error) {
	oh, err := x.sc.SeekObjectHeader(x.objs[i].off)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(int(min(oh.Length, 1<<20))) // a hint: a header cannot make us allocate what is not sent
	if _, _, err := x.sc.NextObject(x.capped(&buf)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeIdx writes the version 2 index of a pack whose objects, sorted by
// hash, are objs, and whose checksum is sum. An object in the pack twice
// is indexed once.
func writeIdx(w io.Writer, objs []packObj, sum plumbing.Hash) error {
	objs = slices.CompactFunc(objs, func(a, b packObj) bool { return a.hash == b.hash })
	h := sha1.New()
	out := bufio.NewWriter(io.MultiWriter(w, h))
	var b [8]byte
	put32 := func(v uint32) { out.Write(binary.BigEndian.AppendUint32(b[:0], v)) }

	out.Write([]byte{0xff, 't', 'O', 'c', 0, 0, 0, 2})
	var fanout [256]uint32
	for _, o := range objs {
		fanout[o.hash[0]]++
	}
	var n uint32
	for _, c := range fanout {
		n += c
		put32(n)
	}
	for _, o := range objs {
		out.Write(o.hash[:])
	}
	for _, o := range objs {
		put32(o.crc)
	}
	var large []int64
	for _, o := range objs {
		if o.off > 0x7fffffff {
			put32(0x80000000 | uint32(len(large)))
			large = append(large, o.off)
		} else {
			put32(uint32(o.off))
		}
	}
	for _, off := range large {
		out.Write(binary.BigEndian.AppendUint64(b[:0], uint64(off)))
	}
	out.Write(sum[:])
	if err := out.Flush(); err != nil {
		return err
	}
	_, err := w.Write(h.Sum(nil))
	return err
}
