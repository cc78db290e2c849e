package netstack

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
)

// dnsPort is where DNS servers listen.
const dnsPort = 53

// dnsWait is how long one query waits for its answer before it is sent
// again (twice per server), within the caller's context.
const dnsWait = 2 * time.Second

// Go's own resolver is not used for addresses: with more than one address
// to sort (RFC 6724), it asks the host's stack for source addresses,
// opening host sockets. The client below sends the queries through the
// Stack and keeps the server's order.

// lookup returns the addresses of host: itself if it is an IP address, the
// Stack's own addresses if it is empty, else the A and AAAA records the
// DNS servers give. family is "ip", "ip4" or "ip6".
func (s *Stack) lookup(ctx context.Context, host, family string) ([]netip.Addr, error) {
	want := func(ip netip.Addr) bool {
		return family == "ip" || ip.Is4() == (family == "ip4")
	}
	if host == "" {
		var out []netip.Addr
		for _, ip := range s.Addrs() {
			if want(ip) {
				out = append(out, ip)
			}
		}
		if len(out) == 0 {
			return nil, errors.New("the stack has no address of that family yet")
		}
		return out, nil
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		if ip = ip.Unmap(); !want(ip) {
			return nil, fmt.Errorf("%s is not an address of network %s", host, family)
		}
		if ip.Zone() != "" {
			return nil, fmt.Errorf("%s: zones are not supported", host)
		}
		return []netip.Addr{ip}, nil
	}
	servers := s.dnsServers()
	if len(servers) == 0 {
		return nil, fmt.Errorf("cannot resolve %s: no DNS server configured", host)
	}
	types := []dnsmessage.Type{dnsmessage.TypeAAAA, dnsmessage.TypeA}
	switch family {
	case "ip4":
		types = types[1:]
	case "ip6":
		types = types[:1]
	}
	type result struct {
		ips []netip.Addr
		err error
	}
	results := make(chan result, len(types))
	for _, t := range types {
		go func() {
			ips, err := s.query(ctx, servers, host, t)
			results <- result{ips, err}
		}()
	}
	var ips []netip.Addr
	var firstErr error
	for range types {
		r := <-results
		ips = append(ips, r.ips...)
		if r.err != nil && firstErr == nil {
			firstErr = r.err
		}
	}
	if len(ips) > 0 {
		return ips, nil
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// query asks servers, in turn, for host's records of type t, and returns
// the addresses of the first answer (none for a name without such records).
func (s *Stack) query(ctx context.Context, servers []netip.Addr, host string, t dnsmessage.Type) ([]netip.Addr, error) {
	name, err := dnsmessage.NewName(strings.TrimSuffix(host, ".") + ".")
	if err != nil {
		return nil, &net.DNSError{Err: "invalid name", Name: host}
	}
	var lastErr error
	for _, server := range servers {
		for try := 0; try < 2; try++ {
			id := uint16(rand.N(1 << 16))
			q := dnsmessage.Question{Name: name, Type: t, Class: dnsmessage.ClassINET}
			msg, err := (&dnsmessage.Message{
				Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
				Questions: []dnsmessage.Question{q},
			}).Pack()
			if err != nil {
				return nil, err
			}
			answer, err := s.exchangeDNS(ctx, server, msg, false)
			var ips []netip.Addr
			truncated := false
			if err == nil {
				ips, truncated, err = parseAnswer(answer, id, q)
			}
			if err == nil && truncated {
				if answer, err = s.exchangeDNS(ctx, server, msg, true); err == nil {
					ips, _, err = parseAnswer(answer, id, q)
				}
			}
			if err == nil {
				return ips, nil
			}
			var dnsErr *net.DNSError
			if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
				dnsErr.Name = host
				return nil, err
			}
			lastErr = err
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}
	return nil, &net.DNSError{Err: lastErr.Error(), Name: host, IsTimeout: isTimeout(lastErr)}
}

// exchangeDNS sends one query to server over UDP, or TCP, through the
// Stack, and returns the answer's bytes.
func (s *Stack) exchangeDNS(ctx context.Context, server netip.Addr, msg []byte, overTCP bool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, dnsWait)
	defer cancel()
	remote := tcpip.FullAddress{Addr: addrFrom(server), Port: dnsPort, NIC: nicID}
	proto := protocolOf(server)
	var c net.Conn
	if overTCP {
		tc, err := gonet.DialContextTCP(ctx, s.stack, remote, proto)
		if err != nil {
			return nil, err
		}
		c = tc
	} else {
		uc, err := gonet.DialUDP(s.stack, nil, &remote, proto)
		if err != nil {
			return nil, err
		}
		c = uc
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	if overTCP {
		msg = append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)
	}
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	if !overTCP {
		buf := make([]byte, 1500)
		n, err := c.Read(buf)
		return buf[:n], err
	}
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, binary.BigEndian.Uint16(n[:]))
	_, err := io.ReadFull(c, buf)
	return buf, err
}

// parseAnswer reads the addresses of type q.Type in a DNS answer to the
// query id about q, and whether the answer was truncated. A name that does
// not exist is a *net.DNSError with IsNotFound.
func parseAnswer(b []byte, id uint16, q dnsmessage.Question) ([]netip.Addr, bool, error) {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil {
		return nil, false, fmt.Errorf("bad DNS answer: %w", err)
	}
	if !h.Response || h.ID != id {
		return nil, false, errors.New("DNS answer to another query")
	}
	got, err := p.Question()
	if err != nil || got.Type != q.Type || !strings.EqualFold(got.Name.String(), q.Name.String()) {
		return nil, false, errors.New("DNS answer to another question")
	}
	if h.Truncated {
		return nil, true, nil
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return nil, false, &net.DNSError{Err: "no such host", IsNotFound: true}
	default:
		return nil, false, fmt.Errorf("DNS server answered %v", h.RCode)
	}
	if err := p.SkipAllQuestions(); err != nil {
		return nil, false, fmt.Errorf("bad DNS answer: %w", err)
	}
	var ips []netip.Addr
	for {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return ips, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("bad DNS answer: %w", err)
		}
		switch {
		case rh.Type == dnsmessage.TypeA && q.Type == dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return nil, false, fmt.Errorf("bad DNS answer: %w", err)
			}
			ips = append(ips, netip.AddrFrom4(r.A))
		case rh.Type == dnsmessage.TypeAAAA && q.Type == dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return nil, false, fmt.Errorf("bad DNS answer: %w", err)
			}
			if ip := netip.AddrFrom16(r.AAAA); !ip.Is4In6() {
				ips = append(ips, ip)
			}
		default: // CNAMEs on the way
			if err := p.SkipAnswer(); err != nil {
				return nil, false, fmt.Errorf("bad DNS answer: %w", err)
			}
		}
	}
}

// isTimeout reports whether err is a timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
