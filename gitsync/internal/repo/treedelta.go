package repo

import "bytes"

// treeDelta appends to out the delta (git's format) that makes the tree
// tgt from the tree base: each entry of tgt that base holds byte for
// byte is copied from it, runs of them in one instruction, and the
// others inserted. Both are walked once, in their order (git's, by
// name): far cheaper than go-git's encoder, which indexes base, and
// smaller for trees, whose entries change whole (spliceDelta, for one
// change, is this with one run of each). ok is false when either does not parse as
// a tree.
func treeDelta(out, base, tgt []byte) (delta []byte, ok bool) {
	out = appendDeltaSize(out, len(base))
	out = appendDeltaSize(out, len(tgt))
	var lit []byte  // what is to be inserted, not written yet
	cp, cn := -1, 0 // the copy not written yet: offset, length
	flushCopy := func() {
		if cn > 0 {
			out = appendCopy(out, cp, cn)
		}
		cp, cn = -1, 0
	}
	flushLit := func() {
		for len(lit) > 0 {
			k := min(len(lit), 0x7f)
			out = append(out, byte(k))
			out = append(out, lit[:k]...)
			lit = lit[k:]
		}
	}
	b := 0 // where base's next entry starts
	for t := 0; t < len(tgt); {
		te, ok := treeEntryEnd(tgt, t)
		if !ok {
			return nil, false
		}
		name := tgt[t : t+bytes.IndexByte(tgt[t:], 0)]
		for b < len(base) {
			be, ok := treeEntryEnd(base, b)
			if !ok {
				return nil, false
			}
			bname := base[b : b+bytes.IndexByte(base[b:], 0)]
			if bytes.Equal(base[b:be], tgt[t:te]) {
				flushLit()
				if cp+cn != b {
					flushCopy()
					cp = b
				}
				cn += be - b
				b = be
				goto next
			}
			if bytes.Compare(entryName(bname), entryName(name)) >= 0 {
				break
			}
			b = be
		}
		flushCopy()
		lit = append(lit, tgt[t:te]...)
	next:
		t = te
	}
	flushCopy()
	flushLit()
	return out, true
}

// treeEntryEnd returns where the tree entry that starts at i in tree
// ends, and whether it is whole ("mode name\0" and 20 bytes).
func treeEntryEnd(tree []byte, i int) (int, bool) {
	nul := bytes.IndexByte(tree[i:], 0)
	if nul < 0 || len(tree)-i < nul+1+20 {
		return 0, false
	}
	return i + nul + 1 + 20, true
}

// entryName returns the name of an entry's "mode name" head.
func entryName(head []byte) []byte {
	if sp := bytes.IndexByte(head, ' '); sp >= 0 {
		return head[sp+1:]
	}
	return head
}
