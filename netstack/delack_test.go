package netstack

import (
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// frameLog is a Link that records the frames written to it.
type frameLog struct {
	mu     sync.Mutex
	frames [][]byte
}

func (l *frameLog) Read([]byte) (int, error) { select {} }
func (l *frameLog) VnetHdr() bool            { return false }
func (l *frameLog) Close() error             { return nil }
func (l *frameLog) Writev(bufs [][]byte) (int, error) {
	var f []byte
	for _, b := range bufs {
		f = append(f, b...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frames = append(l.frames, f)
	return len(f), nil
}

// acks returns the acknowledgement numbers of the TCP segments written,
// and whether each carried data.
func (l *frameLog) acks(t *testing.T) (acks []uint32, data []bool) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.frames {
		ip := header.IPv4(f)
		th := header.TCP(ip[ip.HeaderLength():])
		acks = append(acks, th.AckNumber())
		data = append(data, len(th) > int(th.DataOffset()))
	}
	return acks, data
}

// segment makes an outbound IPv4 TCP packet as gVisor hands it to the
// link (no Ethernet header here: the link carries what it is given).
func segment(sport uint16, ack uint32, flags header.TCPFlags, opts, payload []byte) *stack.PacketBuffer {
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: header.IPv4MinimumSize + header.TCPMinimumSize + len(opts),
		Payload:            buffer.MakeWithData(payload),
	})
	th := header.TCP(pkt.TransportHeader().Push(header.TCPMinimumSize + len(opts)))
	th.Encode(&header.TCPFields{SrcPort: sport, DstPort: 50000, AckNum: ack, Flags: flags,
		DataOffset: uint8(header.TCPMinimumSize + len(opts)), WindowSize: 1000})
	copy(th[header.TCPMinimumSize:], opts)
	pkt.TransportProtocolNumber = header.TCPProtocolNumber
	ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(header.IPv4MinimumSize + len(th) + len(payload)),
		TTL:         64,
		Protocol:    uint8(header.TCPProtocolNumber),
		SrcAddr:     tcpip.AddrFrom4([4]byte{10, 0, 0, 3}),
		DstAddr:     tcpip.AddrFrom4([4]byte{10, 0, 0, 1}),
	})
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	return pkt
}

var (
	tsOpt   = []byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionTS, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	sackOpt = []byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionSACK, 10, 0, 0, 0, 1, 0, 0, 0, 2}
)

// TestAckHold sends packets through the link writer's send, as
// WritePackets does, and checks which frames go out.
func TestAckHold(t *testing.T) {
	const ack = header.TCPFlagAck
	for _, tc := range []struct {
		name  string
		pkts  []*stack.PacketBuffer
		acks  []uint32 // acknowledgement numbers written, in order
		data  []bool
		held  int // ACKs still held
		flush bool
	}{
		{"the answer carries the request's ACK",
			[]*stack.PacketBuffer{segment(80, 100, ack, tsOpt, nil), segment(80, 100, ack|header.TCPFlagPsh, tsOpt, []byte("answer"))},
			[]uint32{100}, []bool{true}, 0, false},
		{"a bare ACK waits",
			[]*stack.PacketBuffer{segment(80, 100, ack, tsOpt, nil)},
			nil, nil, 1, false},
		{"a bare ACK goes out when due",
			[]*stack.PacketBuffer{segment(80, 100, ack, tsOpt, nil)},
			[]uint32{100}, []bool{false}, 0, true},
		{"SACK blocks go out at once",
			[]*stack.PacketBuffer{segment(80, 100, ack, sackOpt, nil)},
			[]uint32{100}, []bool{false}, 0, false},
		{"the second ACK goes out, the first is dropped",
			[]*stack.PacketBuffer{segment(80, 100, ack, nil, nil), segment(80, 200, ack, nil, nil)},
			[]uint32{200}, []bool{false}, 0, false},
		{"duplicate ACKs both go out",
			[]*stack.PacketBuffer{segment(80, 100, ack, nil, nil), segment(80, 100, ack, nil, nil)},
			[]uint32{100, 100}, []bool{false, false}, 0, false},
		{"connections are apart",
			[]*stack.PacketBuffer{segment(80, 100, ack, nil, nil), segment(81, 300, ack|header.TCPFlagPsh, nil, []byte("x"))},
			[]uint32{300}, []bool{true}, 1, false},
		{"a FIN is not held",
			[]*stack.PacketBuffer{segment(80, 100, ack|header.TCPFlagFin, nil, nil)},
			[]uint32{100}, []bool{false}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			link := &frameLog{}
			e := &endpoint{link: link, s: &Stack{}}
			e.hold.due = make(chan struct{}, 1)
			e.wmu.Lock()
			for _, pkt := range tc.pkts {
				e.send(pkt) // takes the packet's reference
			}
			if tc.flush {
				e.writeDue(time.Now().Add(ackDelay))
			}
			acks, data := link.acks(t)
			held := len(e.hold.held)
			e.writeDue(time.Time{}) // as when the stack closes
			e.wmu.Unlock()
			if e.hold.timer != nil {
				e.hold.timer.Stop()
			}
			if held != tc.held {
				t.Errorf("%d ACKs held, want %d", held, tc.held)
			}
			if all, _ := link.acks(t); len(all) != len(acks)+held {
				t.Errorf("closing wrote %d held ACKs, want %d", len(all)-len(acks), held)
			}
			if len(acks) != len(tc.acks) {
				t.Fatalf("frames acknowledge %v, want %v", acks, tc.acks)
			}
			for i := range acks {
				if acks[i] != tc.acks[i] || data[i] != tc.data[i] {
					t.Errorf("frame %d: ack %d, data %v; want ack %d, data %v", i, acks[i], data[i], tc.acks[i], tc.data[i])
				}
			}
		})
	}
}

// FuzzHasSACK feeds hasSACK any TCP header: it must not panic, and must
// find SACK blocks where ParseTCPOptions does.
func FuzzHasSACK(f *testing.F) {
	f.Add(uint8(5), []byte{})
	f.Add(uint8(8), tsOpt)
	f.Add(uint8(8), sackOpt)
	f.Add(uint8(6), []byte{header.TCPOptionMSS, 4, 5, 0xb4})
	f.Add(uint8(6), []byte{header.TCPOptionNOP, 0, 0, 0})
	f.Add(uint8(15), []byte{1, 1, 8, 1})
	f.Fuzz(func(t *testing.T, words uint8, opts []byte) {
		th := make(header.TCP, header.TCPMinimumSize+len(opts))
		copy(th[header.TCPMinimumSize:], opts)
		th[header.TCPDataOffset] = words << 4
		got := hasSACK(th)
		off := int(th.DataOffset())
		if off < header.TCPMinimumSize || off > len(th) {
			if !got {
				t.Fatal("a malformed header may be held")
			}
			return
		}
		if parsed := header.ParseTCPOptions(th[header.TCPMinimumSize:off]); len(parsed.SACKBlocks) > 0 && !got {
			t.Fatalf("options %x carry SACK blocks, hasSACK says none", th[header.TCPMinimumSize:off])
		}
	})
}
