package call

import (
	"fmt"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/sdp"
)

// rewriteSDP anchors an SDP body that side from's phone wrote: it learns
// where that phone wants media, and returns the body to send to the other
// side, pointing at the relay's sockets facing that other side. Relays are
// made for new streams as needed. The caller holds s.mu.
func (s *session) rewriteSDP(body []byte, from media.Side) ([]byte, error) {
	return s.rewrite(body, from, false)
}

// rewriteAnswer is rewriteSDP for the 2xx of the leg that won: what other
// forked phones latched is forgotten.
func (s *session) rewriteAnswer(body []byte) ([]byte, error) {
	return s.rewrite(body, media.B, true)
}

func (s *session) rewrite(body []byte, from media.Side, reset bool) ([]byte, error) {
	d, err := sdp.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("rewrite sdp: %w", err)
	}
	ports := make([]int, len(d.Media))
	for i, m := range d.Media {
		if m.Port == 0 {
			continue
		}
		for len(s.relays) <= i {
			s.relays = append(s.relays, nil)
		}
		if s.relays[i] == nil {
			r, err := s.newRelay()
			if err != nil {
				return nil, fmt.Errorf("rewrite sdp: %w", err)
			}
			s.relays[i] = r
		}
		r := s.relays[i]
		if reset {
			r.ResetPeer(from, d.RTP(i), d.RTCP(i))
		} else {
			r.SetPeer(from, d.RTP(i), d.RTCP(i))
		}
		ports[i] = int(r.Local(1 - from).Port())
		if from == media.B || s.state == answered {
			// The callee's SDP (183 or 200) means media may flow now.
			r.Start(s.ctx)
		}
		held := d.Direction(i) != sdp.SendRecv || !d.Connection(i).IsValid() || d.Connection(i).IsUnspecified()
		r.Pause(held || s.state != answered)
	}
	d.Rewrite(s.m.d.MediaIP, ports)
	return d.Marshal(), nil
}

func (s *session) newRelay() (*media.Relay, error) {
	a, err := s.m.d.Ports.Listen()
	if err != nil {
		return nil, err
	}
	b, err := s.m.d.Ports.Listen()
	if err != nil {
		a.Close()
		return nil, err
	}
	return s.newRelayOn(a, b), nil
}

// newRelayOn makes a relay on the sockets a (toward the caller) and b.
func (s *session) newRelayOn(a, b *media.Pair) *media.Relay {
	timeout := s.m.d.MediaTimeout
	if timeout < 0 {
		timeout = 0
	}
	return media.NewRelay(media.RelayConfig{
		A: a, B: b,
		Timeout: timeout,
		OnTimeout: func() {
			s.m.goWait(func() { s.hangup(s.ctx, "") })
		},
		Now:    s.m.d.Now,
		Logger: s.log,
		Tap:    s.tap, // call recording (record.go)
	})
}
