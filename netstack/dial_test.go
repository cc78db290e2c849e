package netstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// listenUDPForTest returns a UDP socket bound to port on every IPv4
// address of s, or with v6 every IPv6 one.
func (s *Stack) listenUDPForTest(port uint16, v6 ...bool) (*gonet.UDPConn, error) {
	proto := ipv4.ProtocolNumber
	if len(v6) > 0 && v6[0] {
		proto = ipv6.ProtocolNumber
	}
	return gonet.DialUDP(s.stack, &tcpip.FullAddress{Port: port}, nil, proto)
}

func TestHTTP(t *testing.T) {
	p := newPair(t, 0)
	ln, err := p.a.Listen("tcp4", "10.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	if got := ln.Addr().String(); got != "10.0.0.1:8080" {
		t.Errorf("listener address %s, want 10.0.0.1:8080", got)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.RemoteAddr)
	})
	mux.HandleFunc("POST /len", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	})
	srv := &http.Server{Handler: mux}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	client := &http.Client{
		Transport: &http.Transport{DialContext: p.b.Dial},
		Timeout:   timeout,
	}
	get := func(url string) string {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := get("http://10.0.0.1:8080/hello"); !strings.HasPrefix(got, "hello 10.0.0.3:") {
		t.Errorf("GET /hello = %q, want hello 10.0.0.3:PORT", got)
	}
	body := bytes.Repeat([]byte("pasteur "), 1<<17) // 1 MiB
	resp, err := client.Post("http://10.0.0.1:8080/len", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprint(len(body)); string(got) != want {
		t.Errorf("POST /len = %q, want %s", got, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
	}
}

func TestDialErrors(t *testing.T) {
	p := newPair(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tests := []struct {
		network, address, want string
	}{
		{"unix", "/tmp/sock", "unsupported network"},
		{"tcp4", "[fd00::1]:80", "not an address of network ip4"},
		{"tcp", "[fe80::1%eth0]:80", "zones"},
		{"tcp", "10.0.0.1", "missing port"},
		{"tcp", "10.0.0.1:80", "refused"}, // a is up but not listening
	}
	for _, tt := range tests {
		c, err := p.b.Dial(ctx, tt.network, tt.address)
		if err == nil {
			c.Close()
			t.Errorf("Dial(%s, %s) succeeded", tt.network, tt.address)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "netstack: dial ") {
			t.Errorf("Dial(%s, %s) = %v, want it to contain %q", tt.network, tt.address, err, tt.want)
		}
	}

	// A dial to an address nobody answers (no ARP reply) ends with ctx.
	short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	if c, err := p.b.Dial(short, "tcp", "10.0.0.99:80"); !errors.Is(err, context.DeadlineExceeded) {
		if c != nil {
			c.Close()
		}
		t.Errorf("Dial to a silent address: %v, want context.DeadlineExceeded", err)
	}
}

func TestListenErrors(t *testing.T) {
	p := newPair(t, 0)
	tests := []struct {
		network, address, want string
	}{
		{"udp", ":53", "unsupported network"},
		{"tcp4", "[::]:80", "not an address of network tcp4"},
		{"tcp6", "10.0.0.1:80", "not an address of network tcp6"},
		{"tcp", "localhost:80", "not an IP address"},
		{"tcp", "80", "missing port"},
	}
	for _, tt := range tests {
		ln, err := p.a.Listen(tt.network, tt.address)
		if err == nil {
			ln.Close()
			t.Errorf("Listen(%s, %s) succeeded", tt.network, tt.address)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "netstack: listen ") {
			t.Errorf("Listen(%s, %s) = %v, want it to contain %q", tt.network, tt.address, err, tt.want)
		}
	}

	// Port 0 picks a port; a second listener on it fails; after Close,
	// Accept reports net.ErrClosed.
	ln, err := p.a.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if port == 0 {
		t.Fatalf("listener address %v has no port", ln.Addr())
	}
	if ln2, err := p.a.Listen("tcp", fmt.Sprintf(":%d", port)); err == nil {
		ln2.Close()
		t.Errorf("a second Listen on port %d succeeded", port)
	}
	accepted := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		accepted <- err
	}()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-accepted:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(timeout):
		t.Fatal("Close did not unblock Accept")
	}
}
