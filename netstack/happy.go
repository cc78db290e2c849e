package netstack

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// fallbackDelay is how long the first family gets before the other starts
// (RFC 8305 suggests 250 ms; Go's net package uses 300 ms).
const fallbackDelay = 300 * time.Millisecond

// preferUsable orders ips for dialing: IPv6 before IPv4 (RFC 6724), and
// addresses of a family the Stack has no address in last, since they
// cannot work yet. The order within a family is the DNS server's.
func (s *Stack) preferUsable(ips []netip.Addr) []netip.Addr {
	var has4, has6 bool
	for _, a := range s.Addrs() {
		has4, has6 = has4 || a.Is4(), has6 || a.Is6()
	}
	var good, bad []netip.Addr
	for _, fam6 := range []bool{true, false} {
		for _, ip := range ips {
			if ip.Is6() != fam6 {
				continue
			}
			if usable := has6 && fam6 || has4 && !fam6 || ip.IsLoopback(); usable {
				good = append(good, ip)
			} else {
				bad = append(bad, ip)
			}
		}
	}
	return append(good, bad...)
}

// dialTCP connects to the first of ips that answers. With addresses of
// both families, the second family starts after fallbackDelay or as soon
// as the first has failed, and the first connection made wins; within a
// family, addresses are tried in turn.
func (s *Stack) dialTCP(ctx context.Context, ips []netip.Addr, port uint16) (net.Conn, error) {
	var primaries, fallbacks []netip.Addr
	for _, ip := range ips {
		if ip.Is4() == ips[0].Is4() {
			primaries = append(primaries, ip)
		} else {
			fallbacks = append(fallbacks, ip)
		}
	}
	if len(fallbacks) == 0 {
		return s.dialSerial(ctx, primaries, port)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		c       net.Conn
		err     error
		primary bool
	}
	results := make(chan result) // unbuffered: a loser is closed by its sender
	race := func(ips []netip.Addr, primary bool) {
		c, err := s.dialSerial(ctx, ips, port)
		select {
		case results <- result{c, err, primary}:
		case <-ctx.Done():
			if c != nil {
				c.Close()
			}
		}
	}
	go race(primaries, true)
	timer := time.NewTimer(fallbackDelay)
	defer timer.Stop()
	var firstErr error
	pending, fallbackStarted := 1, false
	startFallback := func() {
		if !fallbackStarted {
			fallbackStarted = true
			pending++
			go race(fallbacks, false)
		}
	}
	for {
		select {
		case <-timer.C:
			startFallback()
		case r := <-results:
			pending--
			if r.err == nil {
				return r.c, nil
			}
			if firstErr == nil || r.primary {
				firstErr = r.err
			}
			if r.primary {
				startFallback()
			}
			if pending == 0 && fallbackStarted {
				return nil, firstErr
			}
		}
	}
}

// dialSerial tries ips in turn and returns the first connection made, or
// the first error.
func (s *Stack) dialSerial(ctx context.Context, ips []netip.Addr, port uint16) (net.Conn, error) {
	var first error
	for _, ip := range ips {
		c, err := s.dialOneTCP(ctx, ip, port)
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}
