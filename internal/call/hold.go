package call

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/sdp"
)

// Music on hold.
//
// A phone (X) puts its call on hold with a re-INVITE or UPDATE whose offer
// makes the call's first audio stream sendonly or inactive, or points it at
// 0.0.0.0 (RFC 2543). The PBX still forwards that offer to the other phone
// (Y), rewritten to the relay as any offer, so that both phones show the
// hold; what changes is the media. Once Y has answered it with a 2xx, the
// PBX plays the tenant's music on hold (Deps.MusicOnHold) to Y from the
// relay's socket facing Y (media.Relay.Inject), in the codec Y's SDP puts
// first, and mutes X in the relay, so that whatever X's phone sends while
// holding (its own music, comfort noise, silence) does not reach Y. Y's
// answer to a sendonly offer is recvonly: it still plays what it receives.
// Forwarding the hold rather than absorbing it keeps the phones' displays
// and their own hold logic (hold keys, transfers that start with a hold)
// working, and the PBX then needs no SDP of its own toward Y.
//
// The music stops, and X is heard again, when X's next offer resumes the
// stream (sendrecv or recvonly) and Y answers it, when X answers an offer
// of Y's with a stream it receives (X no longer holds), when a transfer
// puts another phone in either place (stopHolds), and when the call ends
// (the player runs on the session's context). A hold offered again while
// the music plays (a session refresh) keeps it going; a new codec for Y
// starts it over in that codec. Both phones may hold at once: each hears
// the music and neither is heard.
//
// Only PCMU, PCMA and G.722 at their static payload types are played: a
// phone whose first codec is another one hears nothing from the PBX while
// held, and X is not muted then (it may be playing its own music). The
// music is a WAV file, the tenant's choice (Deps.MusicOnHold: /moh_server
// and its musics, else the built-in "moh/default"), resampled to the
// codec's rate and played in a loop (media.Player).

// maxMusicBytes bounds a music file that cannot seek, which is read whole
// to be played in a loop: ten minutes of 16 kHz audio.
const maxMusicBytes = 20 << 20

// holdMusic is the music played to the other phone while one side holds,
// guarded by s.mu (session.held).
type holdMusic struct {
	relay  *media.Relay
	codec  string
	cancel context.CancelFunc
}

// holdAfter updates music on hold after an offer from side from's phone
// (offer) was answered with a 2xx by the other phone (answer): both are
// the SDP bodies as the phones wrote them. The caller holds s.mu.
func (s *session) holdAfter(from media.Side, offer, answer []byte) {
	if s.m.d.MusicOnHold == nil || s.state != answered {
		return
	}
	to := 1 - from
	o, err := sdp.Parse(offer)
	if err != nil {
		return
	}
	a, err := sdp.Parse(answer)
	if err != nil {
		return
	}
	i := firstAudio(o)
	if i < 0 || i >= len(a.Media) || a.Media[i].Port == 0 || i >= len(s.relays) || s.relays[i] == nil {
		// No audio stream any more: nothing to play it on.
		s.stopMusic(from)
		s.stopMusic(to)
		return
	}
	r := s.relays[i]
	if holds(o, i) {
		s.playMusic(from, r, a.Media[i])
	} else {
		s.stopMusic(from)
	}
	switch {
	case !holds(a, i):
		s.stopMusic(to)
	case s.held[to] != nil:
		s.playMusic(to, r, o.Media[i]) // from's phone may have changed codec
	}
}

// firstAudio returns the index of the first enabled audio stream, or -1.
func firstAudio(d *sdp.Session) int {
	for i, m := range d.Media {
		if m.Type == "audio" && m.Port != 0 {
			return i
		}
	}
	return -1
}

// holds reports whether stream i of an SDP its phone sent says that phone
// holds the call: it does not want to receive.
func holds(d *sdp.Session, i int) bool {
	if c := d.Connection(i); c.IsValid() && c.IsUnspecified() {
		return true
	}
	dir := d.Direction(i)
	return dir == sdp.SendOnly || dir == sdp.Inactive
}

// musicFormat reports whether music on hold can be played in f: PCMU, PCMA
// and G.722 on their static payload types, and Opus on whatever dynamic
// type the SDP gave it (when the build has Opus: see Manager.codecs).
func musicFormat(f media.Format) bool {
	switch f.Name {
	case "PCMU":
		return f.PT == 0
	case "PCMA":
		return f.PT == 8
	case "G722":
		return f.PT == 9
	case "OPUS":
		return f.PT >= 96
	}
	return false
}

// playMusic makes sure the phone on the other side of holder hears music
// on r, in the first codec of listener (the SDP that phone sent last), and
// that holder is muted. The caller holds s.mu.
func (s *session) playMusic(holder media.Side, r *media.Relay, listener *sdp.Media) {
	var f media.Format
	for _, x := range media.Formats(listener) {
		if x.Name != "TELEPHONE-EVENT" && x.Name != "CN" {
			f = x
			break
		}
	}
	if !musicFormat(f) {
		s.stopMusic(holder)
		return
	}
	if h := s.held[holder]; h != nil && h.relay == r && h.codec == f.Name {
		return // still on hold, as it was
	}
	s.stopMusic(holder)
	enc, _, _, err := s.m.codecs(f.Name)
	if err != nil {
		s.log.Info("no music on hold", "error", err)
		return
	}
	enc = media.PayloadAs(enc, f.PT)
	ctx, cancel := context.WithCancel(s.ctx)
	h := &holdMusic{relay: r, codec: f.Name, cancel: cancel}
	s.held[holder] = h
	r.Mute(holder, true)
	s.log.Info("call held", "side", holder.String())
	s.m.goWait(func() {
		defer cancel()
		if err := s.runMusic(ctx, r, 1-holder, enc); err != nil {
			s.log.Info("music on hold stopped", "error", err)
			// The holder is heard again rather than nothing at all.
			s.mu.Lock()
			if s.held[holder] == h {
				r.Mute(holder, false)
			}
			s.mu.Unlock()
		}
	})
}

// runMusic plays the tenant's music on hold on r to side to until ctx
// ends.
func (s *session) runMusic(ctx context.Context, r *media.Relay, to media.Side, enc media.Codec) error {
	rc, err := s.m.d.MusicOnHold(s.tenant.ID)
	if err != nil {
		return fmt.Errorf("open music on hold: %w", err)
	}
	defer rc.Close()
	src, ok := rc.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(io.LimitReader(rc, maxMusicBytes))
		if err != nil {
			return fmt.Errorf("read music on hold: %w", err)
		}
		src = bytes.NewReader(b)
	}
	p, err := media.NewPlayer(media.PlayerConfig{
		Source: src, Codec: enc, Pacer: s.m.d.Pacer,
		Send: func(pkt []byte) { r.Inject(to, pkt) },
	})
	if err != nil {
		return fmt.Errorf("music on hold: %w", err)
	}
	return p.Run(ctx)
}

// stopMusic ends the music holder's hold plays and unmutes holder. The
// caller holds s.mu.
func (s *session) stopMusic(holder media.Side) {
	h := s.held[holder]
	if h == nil {
		return
	}
	s.held[holder] = nil
	h.cancel()
	h.relay.Mute(holder, false)
	s.log.Info("call resumed", "side", holder.String())
}

// stopHolds ends all music on hold of the call: a transfer put another
// phone in one side's place. The caller holds s.mu.
func (s *session) stopHolds() {
	s.stopMusic(media.A)
	s.stopMusic(media.B)
}
