package netstack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// The DHCP ports (RFC 2131).
const (
	dhcpServerPort = 67
	dhcpClientPort = 68
)

// Bounds of the DHCP client's waits: the first retransmission, the longest
// wait for an answer, the longest pause between failed attempts.
const (
	dhcpFirstWait = 2 * time.Second
	dhcpMaxWait   = 60 * time.Second
	dhcpMaxPause  = 30 * time.Second
)

// broadcast4 is the limited broadcast address, where a client without an
// address sends.
var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// errNAK is a server's refusal of a request.
var errNAK = errors.New("refused by the server (DHCPNAK)")

// runDHCP holds a DHCP lease until the Stack closes: it asks for one,
// applies it, renews it, and when it is lost removes its address and asks
// again.
func (s *Stack) runDHCP() {
	defer s.wg.Done()
	log := s.log
	pause := time.Second
	for s.ctx.Err() == nil {
		l, err := s.acquireLease()
		if err != nil {
			if s.ctx.Err() == nil {
				log.Warn("no DHCP lease yet; asking again", "err", err, "in", pause)
				sleep(s.ctx, pause)
				pause = min(2*pause, dhcpMaxPause)
			}
			continue
		}
		pause = time.Second
		if s.ctx.Err() != nil {
			return
		}
		if err := s.applyLease(l); err != nil {
			log.Error("cannot use the DHCP lease", "err", err)
			sleep(s.ctx, dhcpMaxPause)
			continue
		}
		log.Info("DHCP lease", "addr", l.addr, "gateway", l.router, "dns", l.dns, "lease", l.duration, "server", l.server)
		err = s.keepLease(&l)
		s.dropLease(l)
		if s.ctx.Err() == nil {
			log.Warn("DHCP lease lost; its address is removed, asking again", "addr", l.addr, "err", err)
		}
	}
}

// acquireLease runs DISCOVER, OFFER, REQUEST, ACK from no address, for
// up to two minutes.
func (s *Stack) acquireLease() (lease, error) {
	ctx, cancel := context.WithTimeout(s.ctx, 2*dhcpMaxWait)
	defer cancel()
	// Until the lease, the NIC sends from 0.0.0.0, as RFC 2131 wants.
	any := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: header.IPv4Any.WithPrefix()}
	if err := s.stack.AddProtocolAddress(nicID, any, stack.AddressProperties{}); err != nil {
		return lease{}, fmt.Errorf("add 0.0.0.0: %s", err)
	}
	defer s.stack.RemoveAddress(nicID, header.IPv4Any)
	conn, err := s.dhcpConn()
	if err != nil {
		return lease{}, err
	}
	defer conn.Close()

	discover, err := dhcpv4.NewDiscovery(s.cfg.MAC, dhcpv4.WithBroadcast(true), clientID(s.cfg.MAC))
	if err != nil {
		return lease{}, err
	}
	offer, err := s.exchange(ctx, conn, discover, broadcast4, dhcpv4.MessageTypeOffer)
	if err != nil {
		return lease{}, fmt.Errorf("discover: %w", err)
	}
	if _, err := leaseFrom(offer); err != nil {
		return lease{}, fmt.Errorf("offer: %w", err)
	}
	request, err := dhcpv4.NewRequestFromOffer(offer, dhcpv4.WithBroadcast(true), clientID(s.cfg.MAC))
	if err != nil {
		return lease{}, err
	}
	ack, err := s.exchange(ctx, conn, request, broadcast4, dhcpv4.MessageTypeAck)
	if err != nil {
		return lease{}, fmt.Errorf("request %s: %w", offer.YourIPAddr, err)
	}
	return leaseFrom(ack)
}

// keepLease renews l at its renewal time, unicast to its server, then
// broadcast from its rebinding time, until the Stack closes (nil) or the
// lease is lost: refused or expired. l is updated at each renewal.
func (s *Stack) keepLease(l *lease) error {
	log := s.log
	conn, err := s.dhcpConn()
	if err != nil {
		return err
	}
	defer conn.Close()
	for {
		renew, rebind, expire := l.got.Add(l.t1), l.got.Add(l.t2), l.got.Add(l.duration)
		if !sleepUntil(s.ctx, renew) {
			return nil
		}
		for {
			now := time.Now()
			if !now.Before(expire) {
				return errors.New("expired unrenewed")
			}
			to, next := l.server, rebind
			if !now.Before(rebind) {
				to, next = broadcast4, expire
			}
			wait := min(max(next.Sub(now)/2, dhcpFirstWait), dhcpMaxWait)
			ctx, cancel := context.WithTimeout(s.ctx, wait)
			req, err := dhcpv4.NewRenewFromAck(l.ack, dhcpv4.WithTransactionID(newXID()), clientID(s.cfg.MAC))
			var ack *dhcpv4.DHCPv4
			if err == nil {
				ack, err = s.exchange(ctx, conn, req, to, dhcpv4.MessageTypeAck)
			}
			cancel()
			if s.ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, errNAK) {
				return err
			}
			if err == nil {
				nl, err := leaseFrom(ack)
				if err == nil && nl.addr == l.addr {
					*l = nl
					log.Debug("DHCP lease renewed", "addr", l.addr, "lease", l.duration)
					break
				}
				if err == nil {
					err = fmt.Errorf("the server moved the lease to %s", nl.addr)
				}
				return err
			}
			log.Debug("DHCP renewal unanswered", "to", to, "err", err)
		}
	}
}

// applyLease configures the Stack with l.
func (s *Stack) applyLease(l lease) error {
	if err := s.addAddress(l.addr); err != nil {
		return err
	}
	s.addRoutes(l.addr, l.router)
	s.dyn.mu.Lock()
	s.dyn.lease, s.dyn.dhcpDNS = l.addr, l.dns
	s.dyn.notifyLocked()
	s.dyn.mu.Unlock()
	return nil
}

// dropLease undoes applyLease.
func (s *Stack) dropLease(l lease) {
	s.removeAddress(l.addr, l.router)
	s.dyn.mu.Lock()
	s.dyn.lease, s.dyn.dhcpDNS = netip.Prefix{}, nil
	s.dyn.notifyLocked()
	s.dyn.mu.Unlock()
}

// dhcpConn opens the client's UDP socket: port 68 on every address,
// broadcasts allowed.
func (s *Stack) dhcpConn() (*gonet.UDPConn, error) {
	var wq waiter.Queue
	ep, terr := s.stack.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		return nil, fmt.Errorf("udp endpoint: %s", terr)
	}
	ep.SocketOptions().SetBroadcast(true)
	ep.SocketOptions().SetReuseAddress(true)
	if terr := ep.Bind(tcpip.FullAddress{NIC: nicID, Port: dhcpClientPort}); terr != nil {
		ep.Close()
		return nil, fmt.Errorf("bind port %d: %s", dhcpClientPort, terr)
	}
	return gonet.NewUDPConn(&wq, ep), nil
}

// exchange sends msg to server port 67 at to and returns the first answer
// to it of type want, resending with doubling waits until ctx ends. A
// DHCPNAK ends it with errNAK.
func (s *Stack) exchange(ctx context.Context, conn *gonet.UDPConn, msg *dhcpv4.DHCPv4, to netip.Addr, want dhcpv4.MessageType) (*dhcpv4.DHCPv4, error) {
	dst := &net.UDPAddr{IP: to.AsSlice(), Port: dhcpServerPort}
	buf := make([]byte, 1500)
	for wait := dhcpFirstWait; ; wait = min(2*wait, dhcpMaxWait) {
		s.log.Debug("DHCP send", "type", msg.MessageType(), "to", dst)
		if _, err := conn.WriteTo(msg.ToBytes(), dst); err != nil {
			return nil, err
		}
		// RFC 2131 4.1: randomized by up to a second.
		deadline := time.Now().Add(wait + rand.N(time.Second))
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		for {
			conn.SetReadDeadline(deadline)
			n, _, err := conn.ReadFrom(buf)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
						return nil, context.DeadlineExceeded
					}
					break // resend
				}
				return nil, err
			}
			reply, err := dhcpv4.FromBytes(buf[:n])
			if err != nil || reply.OpCode != dhcpv4.OpcodeBootReply || reply.TransactionID != msg.TransactionID ||
				reply.ClientHWAddr.String() != msg.ClientHWAddr.String() {
				continue // not for us
			}
			switch reply.MessageType() {
			case want:
				return reply, nil
			case dhcpv4.MessageTypeNak:
				return nil, fmt.Errorf("%w: %s", errNAK, reply.Message())
			}
		}
	}
}

// clientID is the client identifier option, type 1 (Ethernet) and mac.
func clientID(mac net.HardwareAddr) dhcpv4.Modifier {
	return dhcpv4.WithGeneric(dhcpv4.OptionClientIdentifier, append([]byte{1}, mac...))
}

// newXID returns a fresh transaction id.
func newXID() dhcpv4.TransactionID {
	var x dhcpv4.TransactionID
	for i := range x {
		x[i] = byte(rand.N(256))
	}
	return x
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) { sleepUntil(ctx, time.Now().Add(d)) }

// sleepUntil waits until t and reports true, or false if ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
