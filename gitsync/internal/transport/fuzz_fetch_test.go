package transport

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// FuzzFetchSideband: what a remote sends after the wants of a fetch on
// side-band-64k (the NAK, then the pack on channel 1, progress on 2, an
// error on 3) never panics or hangs the client, and the pack it returns
// holds only channel 1's bytes. Seeds: a pack with progress, an error.
func FuzzFetchSideband(f *testing.F) {
	seed := func(frames ...[]byte) []byte {
		var b bytes.Buffer
		enc := pktline.NewEncoder(&b)
		enc.EncodeString("NAK\n")
		for _, fr := range frames {
			enc.Encode(fr)
		}
		enc.Flush()
		return b.Bytes()
	}
	f.Add(seed([]byte("\x02Counting objects: 3, done.\n"), []byte("\x01PACK\x00\x00\x00\x02\x00\x00\x00\x00"), []byte("\x01tail")))
	f.Add(seed([]byte("\x03fatal: not our ref")))
	f.Add(seed([]byte("\x04unknown channel")))
	var advBuf bytes.Buffer
	enc := pktline.NewEncoder(&advBuf)
	enc.EncodeString("9238ae453de10dc85d6293a59e03bfe5696a6133 refs/heads/master\x00side-band-64k ofs-delta no-progress\n")
	enc.Flush()
	adv := advBuf.Bytes()
	f.Fuzz(func(t *testing.T, reply []byte) {
		s := &gitSession{
			open: func(context.Context, *transport.Endpoint, string) (io.ReadWriteCloser, error) {
				return replay{io.MultiReader(bytes.NewReader(adv), bytes.NewReader(reply))}, nil
			},
			ep:      &transport.Endpoint{Protocol: "git", Host: "h", Path: "/r.git"},
			service: transport.UploadPackServiceName,
		}
		ar, err := s.AdvertisedReferencesContext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		fe := &Fetch{sess: s, adv: ar}
		defer fe.Close()
		rc, _, err := fe.Pack(context.Background(), []plumbing.Hash{plumbing.NewHash("9238ae453de10dc85d6293a59e03bfe5696a6133")}, nil, PackOptions{})
		if err != nil {
			return
		}
		n, _ := io.Copy(io.Discard, io.LimitReader(rc, int64(len(reply))+1))
		rc.Close()
		if n > int64(len(reply)) {
			t.Fatalf("%d bytes of pack from a reply of %d", n, len(reply))
		}
	})
}
