package netstack

import (
	"context"
	"net"
	"testing"

	"golang.org/x/net/nettest"
)

// TestConnContract runs x/net's conformance tests for net.Conn on the
// Stack's TCP connections, over each family.
func TestConnContract(t *testing.T) {
	p := newDualPair(t)
	for _, addr := range []string{"10.0.0.1:7000", "[fd00::1]:7000"} {
		t.Run(addr, func(t *testing.T) {
			ln, err := p.a.Listen("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				accepted := make(chan net.Conn, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						close(accepted)
						return
					}
					accepted <- c
				}()
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				c1, err = p.b.Dial(ctx, "tcp", addr)
				if err != nil {
					return nil, nil, nil, err
				}
				c2, ok := <-accepted
				if !ok {
					c1.Close()
					return nil, nil, nil, net.ErrClosed
				}
				return c1, c2, func() { c1.Close(); c2.Close() }, nil
			})
		})
	}
}
