//go:build opus

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
)

// TestOpusVoicemail has a baresip phone that speaks only Opus call 102,
// whose phone is not registered: voicemail answers in Opus, the caller
// hears the greeting's beep, and the message holds the caller's tone, so
// audio went both ways through gopbx's Opus encoder and decoder.
func TestOpusVoicemail(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	caller := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: "101", Password: sipPassword(tn.Domain, "101"), Domain: tn.Domain,
		PBX: m.SIP.Addr("udp"), ToneHz: toneCaller, Register: true, Codecs: []string{"opus"}})
	if err := caller.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if err := caller.Dial(ctx, "sip:102@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	// The greeting and the beep take about 7.2 s; then about 3 s of
	// message.
	time.Sleep(10500 * time.Millisecond)
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	caller.Stop()
	if log := caller.Log(); !strings.Contains(log, "Set audio encoder: opus") {
		t.Errorf("the call was not in Opus:\n%s", log)
	}
	e, err := caller.Heard(1000, 1400)
	t.Logf("caller heard 1000 Hz at %.3g, 1400 Hz at %.3g (%v)", e[0], e[1], err)
	if err != nil || e[0] < 1e9 || e[0] < toneRatio*e[1] {
		t.Errorf("caller did not hear the beep: %v %v", e, err)
	}

	tenant, _ := pbx.ParseTenantID(tn.ID)
	user, _ := pbx.ParseID(tn.Users["102"])
	var path string
	deadline := time.Now().Add(5 * time.Second)
	for path == "" {
		box, err := m.DB.Mailbox(ctx, tenant, user)
		if err != nil {
			t.Fatal(err)
		}
		if len(box) == 1 {
			if v := box[0]; v.Sender != "101" || v.Duration < 2*time.Second || v.Duration > 6*time.Second {
				t.Errorf("message: %+v", v)
			}
			path = filepath.Join(m.Config.Data, box[0].Path)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailbox of 102: %+v", box)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e = wavTones(t, path, toneCaller, 1000)
	t.Logf("message: %d Hz at %.3g, 1000 Hz at %.3g", toneCaller, e[0], e[1])
	if e[0] < toneRatio*e[1] || e[0] < 1e6 {
		t.Errorf("the message does not hold 101's tone: %.3g at %d Hz, %.3g at 1000 Hz", e[0], toneCaller, e[1])
	}
}

// TestOpusCodecs: built with the opus tag, the apps' codec factory makes
// Opus streams at 16 kHz on the 48 kHz RTP clock.
func TestOpusCodecs(t *testing.T) {
	enc, dec, dtmf, err := codecs("opus")
	if err != nil {
		t.Fatal(err)
	}
	if enc == dec || dtmf == nil {
		t.Fatal("want a fresh encoder and decoder and a DTMF receiver")
	}
	if enc.Name() != "OPUS" || enc.SampleRate() != 16000 || enc.ClockRate() != 48000 {
		t.Errorf("got %s at %d Hz, clock %d; want OPUS at 16000 Hz, clock 48000", enc.Name(), enc.SampleRate(), enc.ClockRate())
	}
	if pcm := dec.Decode(nil, enc.Encode(nil, make([]int16, 320))); len(pcm) != 320 {
		t.Errorf("a 20 ms frame came back as %d samples, want 320", len(pcm))
	}
}
