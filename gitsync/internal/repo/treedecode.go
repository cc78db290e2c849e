package repo

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Trees are decoded from the bytes the pack reader returns, in place:
// go-git's decoder reads them again through a pooled bufio.Reader, a
// string for each mode and name, and parses the mode with strconv (11% of
// a commit's CPU at 1M pastes, where each paste decodes the leaf it goes
// to). decodeTree accepts exactly what go-git's does, and gives the same
// entries (FuzzDecodeTree compares them).

// errMalformedTree: a tree object that is not a list of entries.
var errMalformedTree = errors.New("malformed tree")

// getTree reads tree h (object.GetTree, decoded by decodeTree).
func (r *Repo) getTree(h plumbing.Hash) (*object.Tree, error) {
	o, err := r.st.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, err
	}
	var data []byte
	if po, ok := o.(*packObject); ok {
		data = po.data
	} else if data, err = contents(o); err != nil {
		return nil, err
	}
	return decodeTree(h, data)
}

// decodeTree decodes tree data, whose hash is h, as object.Tree.Decode
// does: modes made canonical, entries in the order stored.
func decodeTree(h plumbing.Hash, data []byte) (*object.Tree, error) {
	t := &object.Tree{Hash: h}
	if len(data) == 0 {
		return t, nil
	}
	t.Entries = make([]object.TreeEntry, 0, len(data)/40+1)
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("%w: missing mode terminator", errMalformedTree)
		}
		mode, ok := parseMode(data[:sp])
		if !ok {
			return nil, fmt.Errorf("%w: malformed mode", errMalformedTree)
		}
		data = data[sp+1:]
		nul := bytes.IndexByte(data, 0)
		switch {
		case nul < 0:
			return nil, fmt.Errorf("%w: missing filename terminator", errMalformedTree)
		case nul == 0:
			return nil, fmt.Errorf("%w: empty filename", errMalformedTree)
		case len(data)-nul-1 < len(plumbing.ZeroHash):
			return nil, fmt.Errorf("%w: truncated object id", errMalformedTree)
		}
		e := object.TreeEntry{Name: string(data[:nul]), Mode: canonicalMode(mode)}
		copy(e.Hash[:], data[nul+1:])
		t.Entries = append(t.Entries, e)
		data = data[nul+1+len(e.Hash):]
	}
	return t, nil
}

// parseMode parses an octal mode as strconv.ParseUint(s, 8, 32) does.
func parseMode(s []byte) (uint32, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range s {
		if c < '0' || c > '7' {
			return 0, false
		}
		if n = n<<3 | uint64(c-'0'); n > 0xffffffff {
			return 0, false
		}
	}
	return uint32(n), true
}

// canonicalMode is the mode go-git's decoder gives a tree entry of mode.
func canonicalMode(mode uint32) filemode.FileMode {
	switch mode & 0o170000 {
	case 0o040000:
		return filemode.Dir
	case 0o100000:
		if mode&0o111 != 0 {
			return filemode.Executable
		}
		return filemode.Regular
	case 0o120000:
		return filemode.Symlink
	default:
		return filemode.Submodule
	}
}
