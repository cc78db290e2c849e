package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// sidebandReply returns what receive-pack sends after the pack, on
// side-band-64k: messages on channel 2, then the report (pkt-lines) on
// channel 1.
func sidebandReply(messages []string, report ...string) []byte {
	var inner bytes.Buffer
	enc := pktline.NewEncoder(&inner)
	for _, l := range report {
		enc.EncodeString(l)
	}
	enc.Flush()
	var out bytes.Buffer
	enc = pktline.NewEncoder(&out)
	for _, m := range messages {
		enc.Encode(append([]byte{2}, m...))
	}
	enc.Encode(append([]byte{1}, inner.Bytes()...))
	enc.Flush()
	return out.Bytes()
}

// FuzzPushReport: what a remote answers to a push on side-band-64k (its
// hooks' messages on channel 2, the report-status on channel 1, or an
// error on channel 3) never panics or hangs the client, and a refusal
// reads as one printable line wrapping ErrRefused, whatever the remote
// says. Seeds: accepted, refused by a hook with a message, a failed
// unpack, an error on channel 3.
func FuzzPushReport(f *testing.F) {
	f.Add(sidebandReply(nil, "unpack ok\n", "ok refs/heads/master\n"))
	f.Add(sidebandReply([]string{"pushes are closed: over quota\n"}, "unpack ok\n", "ng refs/heads/master pre-receive hook declined\n"))
	f.Add(sidebandReply(nil, "unpack index-pack abnormal exit\n", "ng refs/heads/master unpacker error\n"))
	f.Add(sidebandReply([]string{"\x1b[31mred\r\nremote: two\x00lines"}, "unpack ok\n", "ng refs/heads/master failed to update ref\n"))
	var e3 bytes.Buffer
	pktline.NewEncoder(&e3).Encode([]byte("\x03fatal: out of space"))
	f.Add(e3.Bytes())
	var advBuf bytes.Buffer
	enc := pktline.NewEncoder(&advBuf)
	enc.EncodeString("9238ae453de10dc85d6293a59e03bfe5696a6133 refs/heads/master\x00report-status side-band-64k\n")
	enc.Flush()
	adv := advBuf.Bytes()
	f.Fuzz(func(t *testing.T, reply []byte) {
		s := &gitSession{
			open: func(context.Context, *transport.Endpoint, string) (io.ReadWriteCloser, error) {
				return replay{io.MultiReader(bytes.NewReader(adv), bytes.NewReader(reply))}, nil
			},
			ep:      &transport.Endpoint{Protocol: "git", Host: "h", Path: "/r.git"},
			service: transport.ReceivePackServiceName,
		}
		defer s.Close()
		ar, err := s.AdvertisedReferencesContext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		p := &Push{sess: s, adv: ar}
		err = p.Send(context.Background(), master, plumbing.ZeroHash, plumbing.NewHash("9238ae453de10dc85d6293a59e03bfe5696a6133"), nil)
		if err == nil || !errors.Is(err, ErrRefused) {
			return
		}
		msg := err.Error()
		if !utf8.ValidString(msg) || bytes.ContainsAny([]byte(msg), "\n\r\x00\x1b") {
			t.Fatalf("refusal %q: not one printable line", msg)
		}
	})
}
