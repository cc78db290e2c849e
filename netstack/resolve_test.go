package netstack

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// serveDNS answers A and AAAA queries for the names in zone on conn until
// conn is closed, counting the queries it gets. Unknown names get NXDOMAIN.
func serveDNS(conn net.PacketConn, zone map[string][]netip.Addr, queries *atomic.Int64) {
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		queries.Add(1)
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
		b.EnableCompression()
		ips, known := zone[q.Name.String()]
		if !known {
			b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeNameError})
		}
		b.StartQuestions()
		b.Question(q)
		b.StartAnswers()
		for _, ip := range ips {
			rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
			switch {
			case ip.Is4() && q.Type == dnsmessage.TypeA:
				b.AResource(rh, dnsmessage.AResource{A: ip.As4()})
			case ip.Is6() && q.Type == dnsmessage.TypeAAAA:
				b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: ip.As16()})
			}
		}
		msg, err := b.Finish()
		if err != nil {
			continue
		}
		conn.WriteTo(msg, from)
	}
}

func TestResolveThroughStack(t *testing.T) {
	p := newPair(t, 0)
	dns, err := p.a.listenUDPForTest(53)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	var queries atomic.Int64
	go serveDNS(dns, map[string][]netip.Addr{"name.test.": {addrA}}, &queries)

	ln, err := p.a.Listen("tcp", ":4343")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "hi")
			c.Close()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// b's DNS server defaults to its gateway, a.
	c, err := p.b.Dial(ctx, "tcp", "name.test:4343")
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(timeout))
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "hi" {
		t.Fatalf("read %q, %v; want hi", got, err)
	}
	if queries.Load() == 0 {
		t.Error("the DNS server got no query")
	}

	if c, err := p.b.Dial(ctx, "tcp", "missing.test:4343"); err == nil {
		c.Close()
		t.Error("Dial to an unknown name succeeded")
	} else if !strings.Contains(err.Error(), "no such host") {
		t.Errorf("Dial to an unknown name: %v, want no such host", err)
	}

	// a has neither gateway nor DNS server.
	if c, err := p.a.Dial(ctx, "tcp", "name.test:4343"); err == nil {
		c.Close()
		t.Error("Dial by name without a DNS server succeeded")
	} else if !strings.Contains(err.Error(), "no DNS server configured") {
		t.Errorf("Dial by name without a DNS server: %v", err)
	}
}
