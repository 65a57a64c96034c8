package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/media/sdp"
)

// rtpPeer is one end of a call's media: a socket, where to send, counters.
type rtpPeer struct {
	tot  *counters
	conn *net.UDPConn
	dst  atomic.Pointer[netip.AddrPort]
	seq  uint16
	ts   uint32
	ssrc uint32
	recv atomic.Uint64
	sent atomic.Uint64
	// eventPT is the telephone-event payload type the other end's SDP
	// gave (-1: none); set before the peer is paced.
	eventPT int
	// pending is a key to send (its event code + 1); ev the packets of
	// the event being sent so far and evTS its timestamp. Only the
	// pacer's goroutine uses ev and evTS.
	pending atomic.Int32
	ev      int
	evTS    uint32
	evCode  byte
	// The reader's record of arrivals: the last one, and the largest gap
	// between two (unix nanos), until gapStop.
	last, maxGap int64
	gapStop      atomic.Bool
}

// counters add up the packets of every peer of a run.
type counters struct {
	sent, recv atomic.Uint64
	deaf       atomic.Int64
}

// done counts p's packets as finished: a peer that sent but heard
// nothing is deaf.
func (c *counters) done(p *rtpPeer) {
	if p.sent.Load() > 0 && p.recv.Load() == 0 {
		c.deaf.Add(1)
	}
}

func newRTPPeer(ip string, tot *counters) (*rtpPeer, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		return nil, err
	}
	return &rtpPeer{tot: tot, conn: c, ssrc: uint32(time.Now().UnixNano()), eventPT: -1}, nil
}

func (p *rtpPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// read counts packets, and the largest gap between two arrivals until
// gapStop, until the socket closes.
func (p *rtpPeer) read() {
	buf := make([]byte, 1500)
	for {
		if _, _, err := p.conn.ReadFromUDPAddrPort(buf); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !p.gapStop.Load() {
			now := time.Now().UnixNano()
			if p.last != 0 && now-p.last > p.maxGap {
				p.maxGap = now - p.last
			}
			p.last = now
		}
		p.recv.Add(1)
		p.tot.recv.Add(1)
	}
}

// PatternCode is the μ-law byte that fills every sample of the audio
// packet whose timestamp is 160*i: the codes cycle through the 254 that
// decode to distinct non-zero samples (all but 0x7f and 0xff), so that a
// recording of the stream shows which 20 ms frames are missing (a cycle
// lasts 5.08 s). RecordingGaps reads them back.
func PatternCode(i uint32) byte {
	c := byte(i % patternCycle)
	if c >= 0x7f {
		c++
	}
	return c
}

const patternCycle = 254

// press queues key for sending as an RFC 4733 event; false when the other
// end negotiated no telephone-event or key is no DTMF key.
func (p *rtpPeer) press(key rune) bool {
	code, ok := audio.EventForDigit(key)
	if p.eventPT < 0 || !ok {
		return false
	}
	p.pending.Store(int32(code) + 1)
	return true
}

// An event lasts eventPackets packets of 20 ms; its last is sent three
// times with the end bit, as RFC 4733 section 2.5.1.4 recommends.
const eventPackets = 5

// send sends one 20 ms packet: PCMU (PatternCode of its timestamp), or a
// telephone-event packet while a key is being pressed.
func (p *rtpPeer) send(buf []byte) {
	dst := p.dst.Load()
	if dst == nil {
		return
	}
	p.seq++
	p.ts += 160
	if p.ev == 0 {
		if k := p.pending.Swap(0); k != 0 {
			p.ev, p.evTS, p.evCode = 1, p.ts, byte(k-1)
		}
	}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}}
	if p.ev > 0 {
		pkt.PayloadType, pkt.Timestamp, pkt.Marker = uint8(p.eventPT), p.evTS, p.ev == 1
	}
	n, err := pkt.Header.MarshalTo(buf)
	if err != nil {
		return
	}
	if p.ev > 0 {
		dur, flags := min(p.ev, eventPackets)*160, byte(10) // volume -10 dBm0
		if p.ev >= eventPackets {
			flags |= 0x80 // end
		}
		buf[n], buf[n+1], buf[n+2], buf[n+3] = p.evCode, flags, byte(dur>>8), byte(dur)
		n += 4
		if p.ev++; p.ev > eventPackets+2 {
			p.ev = 0
		}
	} else {
		code := PatternCode(p.ts / 160)
		for i := n; i < n+160; i++ {
			buf[i] = code
		}
		n += 160
	}
	if _, err := p.conn.WriteToUDPAddrPort(buf[:n], *dst); err == nil {
		p.sent.Add(1)
		p.tot.sent.Add(1)
	}
}

// sdpFor offers PCMU at ip:port, and telephone-event when events.
func sdpFor(ip string, port int, events bool) []byte {
	fmts, ev := "0", ""
	if events {
		fmts, ev = "0 101", "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
	}
	return []byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\na=rtpmap:0 PCMU/8000\r\n%sa=sendrecv\r\n",
		ip, ip, port, fmts, ev))
}

// setDst points p at the RTP address of the SDP body and takes its
// telephone-event payload type.
func setDst(p *rtpPeer, body []byte) {
	s, err := sdp.Parse(body)
	if err != nil || len(s.Media) == 0 || !s.RTP(0).IsValid() {
		return
	}
	for _, f := range media.Formats(s.Media[0]) {
		if f.Name == "TELEPHONE-EVENT" {
			p.eventPT = int(f.PT)
			break
		}
	}
	d := s.RTP(0)
	p.dst.Store(&d)
}

// pacer sends a packet for every registered peer each 20 ms, from one
// goroutine, so that thousands of calls do not need thousands of tickers.
type pacer struct {
	mu    sync.Mutex
	peers map[*rtpPeer]struct{}
}

func (pc *pacer) add(p *rtpPeer) {
	pc.mu.Lock()
	pc.peers[p] = struct{}{}
	pc.mu.Unlock()
}

func (pc *pacer) remove(p *rtpPeer) {
	pc.mu.Lock()
	delete(pc.peers, p)
	pc.mu.Unlock()
}

func (pc *pacer) run(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	buf := make([]byte, 1500)
	var list []*rtpPeer
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pc.mu.Lock()
		list = list[:0]
		for p := range pc.peers {
			list = append(list, p)
		}
		pc.mu.Unlock()
		for _, p := range list {
			p.send(buf)
		}
	}
}
