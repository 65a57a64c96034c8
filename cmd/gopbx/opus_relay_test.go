package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"
)

// TestOpusRelayPassThrough has two baresip phones that speak only Opus
// call each other: the relay forwards their Opus packets without decoding
// (with or without the opus build tag), so each hears the other's tone.
func TestOpusRelayPassThrough(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	phone := func(ext string, tone int) *siptest.Baresip {
		p := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: ext, Password: sipPassword(tn.Domain, ext), Domain: tn.Domain,
			PBX: m.SIP.Addr("udp"), ToneHz: tone, Register: true, Codecs: []string{"opus"}})
		if err := p.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := phone("101", toneCaller), phone("102", toneCallee)
	dial(ctx, t, "udp", a, b, "sip:102@acme.test")
	waitSession(t, m, tn.Admin, "101", "102")
	time.Sleep(2500 * time.Millisecond)
	if err := a.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*siptest.Baresip{a, b} {
		if _, err := p.WaitClosed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a.Stop()
	b.Stop()
	for _, p := range []*siptest.Baresip{a, b} {
		if log := p.Log(); !strings.Contains(log, "opus/48000/2") {
			t.Errorf("the call was not in Opus: %s", log)
		}
	}
	checkTones(t, a, b)
}
