package call_test

import (
	"context"
	"encoding/binary"
	"io"
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/media/sdp"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
)

// phoneSSRC marks the RTP a holding phone sends, to tell it from the
// music's.
const phoneSSRC = 0x5eed5eed

// rtpOf is a PCMU packet of 20 ms of a loud square wave from phoneSSRC.
func rtpOf(seq uint16) []byte {
	b := make([]byte, 12+160)
	b[0], b[1] = 0x80, 0
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], uint32(seq)*160)
	binary.BigEndian.PutUint32(b[8:], phoneSSRC)
	for i := 12; i < len(b); i++ {
		b[i] = 0x20
	}
	return b
}

// talker sends phoneSSRC packets from p to dst every 20 ms until stopped.
type talker struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func talk(p *phone, dst netip.AddrPort) *talker {
	tk := &talker{stop: make(chan struct{})}
	tk.wg.Add(1)
	go func() {
		defer tk.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for seq := uint16(0); ; seq++ {
			p.rtp.WriteToUDPAddrPort(rtpOf(seq), dst)
			select {
			case <-tk.stop:
				return
			case <-t.C:
			}
		}
	}()
	return tk
}

func (tk *talker) end() {
	close(tk.stop)
	tk.wg.Wait()
}

// heard is what a phone received for a while.
type heard struct {
	phone, music int     // packets from the other phone, and others
	rms          float64 // of the others, decoded as PCMU
	pt0          bool    // all the others had payload type 0
	seqOK        bool    // their sequence numbers went up by one
	from         map[netip.AddrPort]bool
}

// listen reads p's RTP socket for d.
func listen(t *testing.T, p *phone, d time.Duration) heard {
	t.Helper()
	h := heard{pt0: true, seqOK: true, from: map[netip.AddrPort]bool{}}
	buf := make([]byte, 1500)
	var sum float64
	var n int
	var last uint16
	deadline := time.Now().Add(d)
	for {
		p.rtp.SetReadDeadline(deadline)
		k, from, err := p.rtp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				break
			}
			t.Fatal(err)
		}
		if k < 12 {
			continue
		}
		h.from[from] = true
		if binary.BigEndian.Uint32(buf[8:]) == phoneSSRC {
			h.phone++
			continue
		}
		seq := binary.BigEndian.Uint16(buf[2:])
		if h.music > 0 && seq != last+1 {
			h.seqOK = false
		}
		last = seq
		h.music++
		if buf[1]&0x7f != 0 {
			h.pt0 = false
			continue
		}
		for _, s := range (audio.PCMU{}).Decode(nil, buf[12:k]) {
			sum += float64(s) * float64(s)
			n++
		}
	}
	if n > 0 {
		h.rms = math.Sqrt(sum / float64(n))
	}
	return h
}

// drain drops what p's RTP socket receives for 60 ms: what was in flight.
func drain(p *phone) {
	buf := make([]byte, 1500)
	p.rtp.SetReadDeadline(time.Now().Add(60 * time.Millisecond))
	for {
		if _, _, err := p.rtp.ReadFromUDPAddrPort(buf); err != nil {
			return
		}
	}
}

// relayAddr is where sdpBody (the PBX's) wants RTP.
func relayAddr(t *testing.T, body []byte) netip.AddrPort {
	t.Helper()
	s, err := sdp.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	return s.RTP(0)
}

// reinvite sends a re-INVITE with p's SDP in direction dir through do
// (a dialog's Do) and ACKs it; other gets it and its ACK.
func reinvite(t *testing.T, ctx context.Context, p, other *phone, target sip.Uri, dir string,
	do func(context.Context, *sip.Request) (*sip.Response, error), write func(*sip.Request) error) *sip.Response {
	t.Helper()
	req := sip.NewRequest(sip.INVITE, target)
	req.SetBody(p.sdp(dir))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	res, err := do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE %s: %v %v", dir, res, err)
	}
	if err := write(sip.NewRequest(sip.ACK, target)); err != nil {
		t.Fatal(err)
	}
	other.next(sip.INVITE)
	other.next(sip.ACK)
	return res
}

func TestMusicOnHold(t *testing.T) {
	for _, holder := range []string{"caller", "callee"} {
		t.Run(holder+" holds", func(t *testing.T) {
			e := newEnv(t, envOpts{codecs: codecs})
			lib := prompts.New("")
			var mu sync.Mutex
			var tenants []pbx.TenantID
			call.SetMusicOnHold(e.mgr, func(tn pbx.TenantID) (io.ReadCloser, error) {
				mu.Lock()
				tenants = append(tenants, tn)
				mu.Unlock()
				return lib.Open(tn, prompts.DefaultLang, "moh/default")
			})
			caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
			e.loc.add(e.tenant.ID, "102", callee)
			ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
			defer cancel()
			sess, code := caller.dial(ctx, e.addr, "102")
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			inv := callee.invite()
			ds := callee.server()
			toCaller := relayAddr(t, sess.InviteResponse.Body()) // the relay's socket facing the caller
			toCallee := relayAddr(t, inv.Body())

			// x holds y; x sends to the relay at xRelay, y hears from yRelay.
			x, y, xRelay, yRelay := caller, callee, toCaller, toCallee
			target, do, write := sess.InviteResponse.Contact().Address, sess.Do, sess.WriteRequest
			if holder == "callee" {
				x, y, xRelay, yRelay = callee, caller, toCallee, toCaller
				target, do, write = ds.InviteRequest.Contact().Address, ds.Do, ds.WriteRequest
			}

			tk := talk(x, xRelay)
			if h := listen(t, y, 300*time.Millisecond); h.phone < 5 || h.music != 0 {
				t.Fatalf("before hold: %d packets from %s, %d others; want only %s's", h.phone, x.ext, h.music, x.ext)
			}

			res := reinvite(t, ctx, x, y, target, "sendonly", do, write)
			if !hasLine(res.Body(), "a=recvonly") {
				t.Errorf("hold answer:\n%s", res.Body())
			}
			drain(y) // what x sent before the hold
			h := listen(t, y, time.Second)
			if h.music < 35 || h.music > 60 {
				t.Errorf("on hold: %s got %d music packets in 1 s, want about 50", y.ext, h.music)
			}
			if h.phone != 0 {
				t.Errorf("on hold: %s got %d packets from %s, want none", y.ext, h.phone, x.ext)
			}
			if !h.pt0 || !h.seqOK {
				t.Errorf("on hold: payload type 0 %v, sequence in order %v", h.pt0, h.seqOK)
			}
			if h.rms < 200 {
				t.Errorf("on hold: music rms %.0f, want above 200 (not silence)", h.rms)
			}
			if len(h.from) != 1 || !h.from[yRelay] {
				t.Errorf("on hold: packets from %v, want only the relay's %v", h.from, yRelay)
			}
			mu.Lock()
			if len(tenants) != 1 || tenants[0] != e.tenant.ID {
				t.Errorf("music opened for tenants %v, want [%v]", tenants, e.tenant.ID)
			}
			mu.Unlock()

			// A second hold (a refresh) keeps the music going.
			reinvite(t, ctx, x, y, target, "sendonly", do, write)
			if h := listen(t, y, 300*time.Millisecond); h.music < 10 || h.phone != 0 {
				t.Errorf("held again: %d music packets, %d from %s", h.music, h.phone, x.ext)
			}

			// Resume: the music stops at once and x is heard again.
			reinvite(t, ctx, x, y, target, "sendrecv", do, write)
			drain(y) // what was in flight
			if h := listen(t, y, 500*time.Millisecond); h.music != 0 || h.phone < 15 {
				t.Errorf("resumed: %d music packets, %d from %s; want none and about 25", h.music, h.phone, x.ext)
			}

			// Hold again, then hang up: the music ends with the call.
			reinvite(t, ctx, x, y, target, "inactive", do, write)
			if h := listen(t, y, 300*time.Millisecond); h.music < 10 || h.phone != 0 {
				t.Errorf("held inactive: %d music packets, %d from %s", h.music, h.phone, x.ext)
			}
			tk.end()
			if err := sess.Bye(ctx); err != nil {
				t.Fatal(err)
			}
			callee.next(sip.BYE)
			drain(y)
			if h := listen(t, y, 300*time.Millisecond); h.music != 0 {
				t.Errorf("after hang-up: %d music packets", h.music)
			}
			mu.Lock()
			if len(tenants) != 2 {
				t.Errorf("music opened %d times, want 2", len(tenants))
			}
			mu.Unlock()
			e.cdrs(1)
		})
	}
}

// TestMusicOnHoldNone: without Deps.MusicOnHold a held phone keeps
// hearing what the holding phone sends.
func TestMusicOnHoldNone(t *testing.T) {
	e := newEnv(t, envOpts{codecs: codecs}) // no MusicOnHold
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	callee.invite()
	tk := talk(caller, relayAddr(t, sess.InviteResponse.Body()))
	defer tk.end()
	reinvite(t, ctx, caller, callee, sess.InviteResponse.Contact().Address, "sendonly", sess.Do, sess.WriteRequest)
	if h := listen(t, callee, 300*time.Millisecond); h.music != 0 || h.phone < 5 {
		t.Errorf("hold without music: %d music packets, %d from the caller", h.music, h.phone)
	}
	sess.Bye(ctx)
	callee.next(sip.BYE)
}

// TestMusicOnHoldThenBlindTransfer: the callee holds the caller and
// transfers it; the target takes the callee's place and the caller hears
// the target, not the music.
func TestMusicOnHoldThenBlindTransfer(t *testing.T) {
	e := newEnv(t, envOpts{codecs: codecs})
	lib := prompts.New("")
	call.SetMusicOnHold(e.mgr, func(tn pbx.TenantID) (io.ReadCloser, error) {
		return lib.Open(tn, prompts.DefaultLang, "moh/default")
	})
	caller, callee, target := newPhone(t, "101", answer), newPhone(t, "102", answer), newPhone(t, "103", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	e.loc.add(e.tenant.ID, "103", target)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	callee.invite()
	callee.next(sip.ACK)
	ds := callee.server()
	reinvite(t, ctx, callee, caller, ds.InviteRequest.Contact().Address, "sendonly", ds.Do, ds.WriteRequest)
	if h := listen(t, caller, 300*time.Millisecond); h.music < 10 {
		t.Fatalf("on hold: %d music packets", h.music)
	}

	res, err := ds.Do(ctx, referTo(ds.InviteRequest.Contact().Address, "103", e))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	tinv := target.invite()
	notify(t, callee, "SIP/2.0 100 Trying", "active;expires=60")
	notify(t, callee, "SIP/2.0 200 OK", "terminated;reason=noresource")
	callee.next(sip.BYE)

	tk := talk(target, relayAddr(t, tinv.Body()))
	defer tk.end()
	drain(caller)
	if h := listen(t, caller, 500*time.Millisecond); h.music != 0 || h.phone < 15 {
		t.Errorf("after the transfer: %d music packets, %d from the target", h.music, h.phone)
	}
	sess.Bye(ctx)
	target.next(sip.BYE)
}
