package acme

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testDNS is an in-process authoritative DNS server on loopback for zone
// "example.test.": every name has A 127.0.0.1; TXT records come from RFC
// 2136 updates signed with the key it was made with, allowed only under
// "_acme-challenge.".
type testDNS struct {
	addr    string
	key     TSIGKey
	mu      sync.Mutex
	txt     map[string][]string // name -> values
	updates int
}

const testZone = "example.test."

func newTestDNS(t *testing.T) *testDNS {
	t.Helper()
	d := &testDNS{
		key: TSIGKey{Name: "test-key.", Algorithm: dns.HmacSHA256, Secret: "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ=="},
		txt: make(map[string][]string),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	d.addr = ln.Addr().String()
	secrets := map[string]string{d.key.Name: d.key.Secret}
	for _, s := range []*dns.Server{
		{Listener: ln, TsigSecret: secrets, Handler: d, MsgAcceptFunc: acceptUpdates},
		{PacketConn: pc, TsigSecret: secrets, Handler: d, MsgAcceptFunc: acceptUpdates},
	} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe()
		<-started
		t.Cleanup(func() { s.Shutdown() })
	}
	return d
}

// ServeDNS answers queries and applies updates.
func (d *testDNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if r.Opcode == dns.OpcodeUpdate {
		d.update(w, r, m)
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	if !dns.IsSubDomain(testZone, name) {
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	}
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: testZone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns: "ns." + testZone, Mbox: "hostmaster." + testZone, Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
	d.mu.Lock()
	switch {
	case q.Qtype == dns.TypeA:
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1)})
	case q.Qtype == dns.TypeTXT && len(d.txt[name]) > 0:
		for _, v := range d.txt[name] {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{v}})
		}
	case q.Qtype == dns.TypeSOA && name == testZone:
		m.Answer = append(m.Answer, soa)
	default:
		m.Ns = append(m.Ns, soa)
	}
	d.mu.Unlock()
	w.WriteMsg(m)
}

func (d *testDNS) update(w dns.ResponseWriter, r *dns.Msg, m *dns.Msg) {
	t := r.IsTsig()
	switch {
	case t == nil:
		m.Rcode = dns.RcodeRefused
	case w.TsigStatus() != nil:
		// As BIND does: NOTAUTH, and the TSIG error in an unsigned TSIG.
		m.Rcode = dns.RcodeNotAuth
		code := uint16(dns.RcodeBadSig)
		if _, ok := map[string]bool{d.key.Name: true}[t.Hdr.Name]; !ok {
			code = dns.RcodeBadKey
		}
		m.Extra = append(m.Extra, &dns.TSIG{Hdr: dns.RR_Header{Name: t.Hdr.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
			Algorithm: t.Algorithm, TimeSigned: t.TimeSigned, Fudge: t.Fudge, OrigId: r.Id, Error: code})
		w.WriteMsg(m)
		return
	}
	if m.Rcode == dns.RcodeSuccess {
		for _, rr := range r.Ns {
			if !strings.HasPrefix(strings.ToLower(rr.Header().Name), "_acme-challenge.") {
				m.Rcode = dns.RcodeRefused
			}
		}
	}
	if m.Rcode == dns.RcodeSuccess {
		d.mu.Lock()
		d.updates++
		for _, rr := range r.Ns {
			txt, ok := rr.(*dns.TXT)
			if !ok {
				continue
			}
			name := strings.ToLower(txt.Hdr.Name)
			switch txt.Hdr.Class {
			case dns.ClassINET:
				d.txt[name] = append(d.txt[name], txt.Txt[0])
			case dns.ClassNONE:
				var keep []string
				for _, v := range d.txt[name] {
					if v != txt.Txt[0] {
						keep = append(keep, v)
					}
				}
				d.txt[name] = keep
			}
		}
		d.mu.Unlock()
	}
	m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
	w.WriteMsg(m)
}

// records returns the TXT values at name.
func (d *testDNS) records(name string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.txt[dns.CanonicalName(name)]...)
}

// dial is a DNS01Solver.Dial on the host's loopback.
func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// newUpdate is an update adding a TXT record at name.
func newUpdate(zone, name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetUpdate(zone)
	m.Insert([]dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{"x"}}})
	return m
}

// acceptUpdates lets updates through to the handler, as well as what the
// default accepts.
func acceptUpdates(h dns.Header) dns.MsgAcceptAction {
	if int(h.Bits>>11)&0xF == dns.OpcodeUpdate {
		return dns.MsgAccept
	}
	return dns.DefaultMsgAcceptFunc(h)
}
