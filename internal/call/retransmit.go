package call

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
)

// pending2xx is a 2xx the PBX sent to a re-INVITE and resends until its
// ACK (RFC 3261 13.3.1.4), as for the caller's initial INVITE.
type pending2xx struct {
	cseq uint32
	rt   *retransmission
}

func (p *pending2xx) stop() {
	if p != nil {
		p.rt.stop()
	}
}

// respond2xx sends side's phone the 2xx r to its re-INVITE req and, over
// UDP, resends it until the ACK; without one within 64*T1 the call is
// hung up.
func (s *session) respond2xx(side media.Side, d *dialog, req *sip.Request, tx sip.ServerTransaction, r *sip.Response) {
	if tx == nil {
		return
	}
	if !strings.EqualFold(d.transport, "UDP") {
		tx.Respond(r)
		return
	}
	p := &pending2xx{cseq: req.CSeq().SeqNo}
	// Registered before the 2xx goes out: the ACK may beat Respond back.
	s.mu.Lock()
	if s.state != answered {
		s.mu.Unlock()
		tx.Respond(r)
		return
	}
	old := s.reinvite2xx[side]
	s.reinvite2xx[side] = p
	p.rt = s.m.retransmit(func() { tx.Respond(r) }, func() {
		s.log.Info("no ack for the 2xx to a re-invite", "side", side)
		s.m.goWait(func() { s.hangup(s.ctx, "") })
	}, sip.T2)
	s.mu.Unlock()
	old.stop()
	tx.Respond(r)
	// A phone that reuses the INVITE's branch for its ACK gives it to the
	// transaction, not to the dialog.
	s.m.goWait(func() {
		select {
		case <-tx.Acks():
			s.acked2xx(side, p.cseq)
		case <-tx.Done():
		case <-s.ctx.Done():
		}
	})
}

// acked2xx stops resending the 2xx that side's ACK with CSeq cseq
// acknowledges.
func (s *session) acked2xx(side media.Side, cseq uint32) {
	s.mu.Lock()
	p := s.reinvite2xx[side]
	if p == nil || p.cseq != cseq {
		s.mu.Unlock()
		return
	}
	s.reinvite2xx[side] = nil
	s.mu.Unlock()
	p.stop()
}
