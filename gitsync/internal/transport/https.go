package transport

import (
	"crypto/tls"
	"net/http"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// newHTTPTransport returns go-git's smart-HTTP transport on a client that
// dials with dial and trusts auth.RootCAs, and the basic-auth credentials of
// ep (whose password it removes, so that no message shows it).
func newHTTPTransport(ep *transport.Endpoint, dial DialFunc, auth Auth) (transport.Transport, transport.AuthMethod) {
	client := &http.Client{
		Transport: &http.Transport{
			DialContext:           dial,
			TLSClientConfig:       &tls.Config{RootCAs: auth.RootCAs, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: ioTimeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		Timeout: 5 * time.Minute,
	}
	password := auth.Token
	if password == "" {
		password = ep.Password
	}
	ep.Password = ""
	var am transport.AuthMethod
	if password != "" {
		user := ep.User
		if user == "" {
			user = "x-access-token"
		}
		am = &githttp.BasicAuth{Username: user, Password: password}
	}
	return githttp.NewClient(client), am
}
