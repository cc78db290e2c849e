package transport

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
)

// ErrRefused: the remote refused a push and said why in its report (a
// pre-receive hook, branch protection, a quota, a pack it could not
// unpack). Whether its branch had moved meanwhile (a lost race, not a
// refusal) only a new look at its references tells.
var ErrRefused = errors.New("the remote refused the push")

// maxRemoteSays bounds what is kept of the remote's messages.
const maxRemoteSays = 1 << 10

// remoteSays keeps the first KiB of what the remote prints on side-band
// channel 2 (its hooks' messages).
type remoteSays struct{ buf bytes.Buffer }

func (m *remoteSays) Write(p []byte) (int, error) {
	if room := maxRemoteSays - m.buf.Len(); room > 0 {
		m.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// String is the messages on one line of printable text.
func (m *remoteSays) String() string { return oneLine(m.buf.String()) }

// oneLine returns s on one line, its lines joined by "; ", without
// characters that are not printable, at most maxRemoteSays bytes.
func oneLine(s string) string {
	var lines []string
	for line := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.Map(func(r rune) rune {
			if unicode.IsPrint(r) {
				return r
			}
			return -1
		}, line)
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "remote:"))
		if line != "" {
			lines = append(lines, line)
		}
	}
	out := strings.Join(lines, "; ")
	if len(out) > maxRemoteSays {
		out = strings.ToValidUTF8(out[:maxRemoteSays], "") // not half a character
	}
	return out
}

// refusal returns the error for report rs, which did not accept the update
// of branch: it wraps ErrRefused and carries the remote's reason and
// messages. A report that accepted it is nil.
func refusal(rs *packp.ReportStatus, branch plumbing.ReferenceName, said string) error {
	var reason string
	switch {
	case rs == nil:
		return nil
	case rs.UnpackStatus != "ok":
		reason = "unpack: " + rs.UnpackStatus
	default:
		for _, cs := range rs.CommandStatuses {
			if cs.ReferenceName == branch && cs.Status != "ok" {
				reason = cs.Status
			}
		}
		if reason == "" {
			if err := rs.Error(); err != nil {
				reason = err.Error()
			}
		}
	}
	if reason == "" {
		return nil
	}
	reason = oneLine(reason)
	if said != "" {
		return fmt.Errorf("%w: %s (the remote says: %s)", ErrRefused, reason, said)
	}
	return fmt.Errorf("%w: %s", ErrRefused, reason)
}
