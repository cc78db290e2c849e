package acme

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// DNS01Solver answers dns-01 challenges by adding the TXT record
// _acme-challenge.DOMAIN to its zone with an RFC 2136 dynamic update signed
// with a TSIG key, and removing it afterwards. Server must be the primary
// server of the zone, or one that forwards updates to it.
type DNS01Solver struct {
	// Server is the DNS server that takes the updates, "host:port".
	Server string

	// Key signs every update.
	Key TSIGKey

	// Dial connects to Server (TCP); netx.Network.Dial fits. Required.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)

	// Zone is the zone holding the records, e.g. "example.org.". Empty
	// means asking Server for the SOA record of the challenge name.
	Zone string

	// TTL is the TXT record's time to live; zero means 60 seconds.
	TTL time.Duration

	// Logger receives the updates; nil means no logging.
	Logger *slog.Logger
}

// exchangeTimeout bounds one DNS exchange.
const exchangeTimeout = 15 * time.Second

// Type returns DNS01.
func (s *DNS01Solver) Type() string { return DNS01 }

// Present adds ch's TXT record and returns once Server answers it.
func (s *DNS01Solver) Present(ctx context.Context, ch Challenge) error {
	rr, zone, err := s.record(ctx, ch)
	if err != nil {
		return err
	}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	m.Insert([]dns.RR{rr})
	if err := s.update(ctx, m, "add", rr.Hdr.Name, zone); err != nil {
		return err
	}
	s.log().Info("dns-01 record added", "name", rr.Hdr.Name, "zone", zone, "server", s.Server)
	return s.waitVisible(ctx, rr)
}

// CleanUp removes ch's TXT record (only that value: other records at the
// name stay).
func (s *DNS01Solver) CleanUp(ctx context.Context, ch Challenge) error {
	rr, zone, err := s.record(ctx, ch)
	if err != nil {
		return err
	}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	m.Remove([]dns.RR{rr})
	if err := s.update(ctx, m, "remove", rr.Hdr.Name, zone); err != nil {
		return err
	}
	s.log().Info("dns-01 record removed", "name", rr.Hdr.Name, "zone", zone)
	return nil
}

// record returns ch's TXT record and the zone it belongs to.
func (s *DNS01Solver) record(ctx context.Context, ch Challenge) (*dns.TXT, string, error) {
	if s.Dial == nil || s.Server == "" || s.Key.Name == "" {
		return nil, "", errors.New("acme: DNS01Solver needs Server, Key and Dial")
	}
	name := dns.CanonicalName(ch.DNSName())
	zone := s.Zone
	if zone == "" {
		var err error
		if zone, err = s.findZone(ctx, name); err != nil {
			return nil, "", err
		}
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	rr := &dns.TXT{
		Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: uint32(ttl / time.Second)},
		Txt: []string{ch.DNSValue()},
	}
	return rr, dns.CanonicalName(zone), nil
}

// findZone asks Server which zone name belongs to: the owner of the SOA
// record in its answer or authority section.
func (s *DNS01Solver) findZone(ctx context.Context, name string) (string, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeSOA)
	r, err := s.exchange(ctx, m, false)
	if err != nil {
		return "", fmt.Errorf("%w: find the zone of %s: %v", ErrDNS, name, err)
	}
	if r.Rcode == dns.RcodeRefused {
		return "", fmt.Errorf("%w: find the zone of %s: %s answered REFUSED: it is not authoritative for the name (set the zone, or name its primary server)", ErrDNSRefused, name, s.Server)
	}
	for _, rr := range slices.Concat(r.Answer, r.Ns) {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Hdr.Name, nil
		}
	}
	return "", fmt.Errorf("%w: find the zone of %s: %s gave no SOA record (%s): is it authoritative for the name?", ErrDNS, name, s.Server, dns.RcodeToString[r.Rcode])
}

// update sends a signed update and explains a refusal.
func (s *DNS01Solver) update(ctx context.Context, m *dns.Msg, op, name, zone string) error {
	r, err := s.exchange(ctx, m, true)
	what := fmt.Sprintf("%s TXT %s in zone %s at %s with key %s", op, name, zone, s.Server, s.Key)
	if r != nil {
		if t := r.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
			return fmt.Errorf("%w: %s: %s", ErrTSIG, what, tsigError(t.Error))
		}
	}
	if err != nil {
		if errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrSecret) || errors.Is(err, dns.ErrKeyAlg) || errors.Is(err, dns.ErrTime) {
			return fmt.Errorf("%w: %s: the answer's signature does not verify (%v): the secret differs from the server's", ErrTSIG, what, err)
		}
		return fmt.Errorf("%w: %s: %v", ErrDNS, what, err)
	}
	switch r.Rcode {
	case dns.RcodeSuccess:
		return nil
	case dns.RcodeRefused:
		return fmt.Errorf("%w: %s: REFUSED: the server's update-policy does not let this key change this name", ErrDNSRefused, what)
	case dns.RcodeNotAuth:
		return fmt.Errorf("%w: %s: NOTAUTH: the server does not accept the key, or is not authoritative for the zone", ErrTSIG, what)
	case dns.RcodeNotZone:
		return fmt.Errorf("%w: %s: NOTZONE: the name is not in the zone", ErrDNS, what)
	default:
		return fmt.Errorf("%w: %s: %s", ErrDNS, what, dns.RcodeToString[r.Rcode])
	}
}

// waitVisible returns once Server answers rr, or after a bounded wait.
func (s *DNS01Solver) waitVisible(ctx context.Context, rr *dns.TXT) error {
	for i := range 20 {
		m := new(dns.Msg)
		m.SetQuestion(rr.Hdr.Name, dns.TypeTXT)
		if r, err := s.exchange(ctx, m, false); err == nil {
			for _, a := range r.Answer {
				if t, ok := a.(*dns.TXT); ok && slices.Equal(t.Txt, rr.Txt) {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(i+1) * 100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%w: %s accepted TXT %s but does not answer it", ErrDNS, s.Server, rr.Hdr.Name)
}

// exchange sends m to Server over TCP, signed with Key when sign is set,
// and returns the answer. On a TSIG failure the answer is returned with the
// error, so that its TSIG error code can be read.
func (s *DNS01Solver) exchange(ctx context.Context, m *dns.Msg, sign bool) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	conn, err := s.Dial(ctx, "tcp", s.Server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	c := &dns.Client{Net: "tcp", Timeout: exchangeTimeout}
	if sign {
		c.TsigSecret = map[string]string{s.Key.Name: s.Key.Secret}
		m.SetTsig(s.Key.Name, s.Key.Algorithm, 300, time.Now().Unix())
	}
	r, _, err := c.ExchangeWithConnContext(ctx, m, &dns.Conn{Conn: conn})
	return r, err
}

func (s *DNS01Solver) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
