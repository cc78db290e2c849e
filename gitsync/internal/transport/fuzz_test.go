package transport

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// replay is a connection to a server that sends reply, whatever it is
// told.
type replay struct{ io.Reader }

func (replay) Write(p []byte) (int, error) { return len(p), nil }
func (replay) Close() error                { return nil }

// FuzzServerReplies: what a git:// or ssh server sends (pkt-lines: the
// advertised references, then the answer to a fetch, or the report of a
// push) never panics or hangs the client. Seeds (testdata): the replies of
// git upload-pack and receive-pack, a refused push, a repository not
// served, an empty repository.
func FuzzServerReplies(f *testing.F) {
	f.Add([]byte("0000"), false)
	f.Fuzz(func(t *testing.T, reply []byte, push bool) {
		service := transport.UploadPackServiceName
		if push {
			service = transport.ReceivePackServiceName
		}
		s := &gitSession{
			open: func(context.Context, *transport.Endpoint, string) (io.ReadWriteCloser, error) {
				return replay{bytes.NewReader(reply)}, nil
			},
			ep:      &transport.Endpoint{Protocol: "git", Host: "h", Path: "/r.git"},
			service: service,
		}
		defer s.Close()
		ctx := context.Background()
		adv, err := s.AdvertisedReferencesContext(ctx)
		if err != nil {
			return
		}
		if _, err := advertised(adv, master); err != nil {
			return
		}
		want := plumbing.NewHash("9238ae453de10dc85d6293a59e03bfe5696a6133")
		if push {
			req := packp.NewReferenceUpdateRequest()
			req.Capabilities.Set(capability.ReportStatus)
			req.Commands = []*packp.Command{{Name: master, New: want}}
			req.Packfile = io.NopCloser(bytes.NewReader(nil))
			s.ReceivePack(ctx, req)
			return
		}
		req := packp.NewUploadPackRequest()
		req.Wants = []plumbing.Hash{want}
		res, err := s.UploadPack(ctx, req)
		if err == nil {
			io.Copy(io.Discard, res)
			res.Close()
		}
	})
}
