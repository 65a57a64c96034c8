package main

import (
	"context"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
)

// TestIVRTransferAndVoicemail creates a virtual receptionist at 800 through
// the API (key 1: extension 101, key 2: 102's voicemail). Baresip 103 calls
// 800 and presses 1: the IVR puts it through to baresip 101, and each phone
// hears the other's tone. Then 103 calls 800 again and presses 2: the
// message it leaves is in 102's mailbox.
func TestIVRTransferAndVoicemail(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102", "103")
	var created struct {
		ID string `json:"id"`
	}
	if st := apiCall(t, m, "POST", "/api/ivrs", tn.Admin, map[string]any{"name": "reception", "extension_number": "800", "pin": "1234",
		"custom_forward_rules": []map[string]any{
			{"user_input": "1", "office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_NUMBER", "number": "101"}},
			{"user_input": "2", "office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_VOICEMAIL", "number": "102"}},
		}}, &created); st != 201 || created.ID == "" {
		t.Fatalf("create IVR: status %d", st)
	}

	phone := func(ext string, tone int) *siptest.Baresip {
		p := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: ext, Password: sipPassword(tn.Domain, ext), Domain: tn.Domain,
			PBX: m.SIP.Addr("udp"), ToneHz: tone, Register: true})
		if err := p.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
		return p
	}
	callee, caller := phone("101", toneCallee), phone("103", toneCaller)

	if err := caller.Dial(ctx, "sip:800@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // into the menu prompt
	sendKeys(ctx, t, caller, "1")
	// The IVR waits dtmf_interval (2 s: 1 could start 101), says "please
	// hold" and rings 101, which answers by itself.
	if _, err := callee.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second) // let the tones flow
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*siptest.Baresip{caller, callee} {
		if _, err := p.WaitClosed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	callee.Stop()
	for _, c := range []struct {
		p           *siptest.Baresip
		name        string
		want, other float64
	}{{caller, "103", toneCallee, toneCaller}, {callee, "101", toneCaller, toneCallee}} {
		e, err := c.p.Heard(c.want, c.other)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		t.Logf("%s heard %.0f Hz at %.3g and %.0f Hz at %.3g", c.name, c.want, e[0], c.other, e[1])
		if e[0] < toneRatio*e[1] || e[0] < 1000 {
			t.Errorf("%s did not hear the other phone's %.0f Hz tone: power %.3g, at %.0f Hz %.3g", c.name, c.want, e[0], c.other, e[1])
		}
	}

	// Key 2: 102's voicemail takes 103's message.
	if err := caller.Dial(ctx, "sip:800@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	sendKeys(ctx, t, caller, "2")
	// 102's greeting and the beep take about 7.2 s; then about 3 s of
	// message.
	time.Sleep(10500 * time.Millisecond)
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	caller.Stop()
	tenant, _ := pbx.ParseTenantID(tn.ID)
	user, _ := pbx.ParseID(tn.Users["102"])
	deadline := time.Now().Add(5 * time.Second)
	for {
		box, err := m.DB.Mailbox(ctx, tenant, user)
		if err != nil {
			t.Fatal(err)
		}
		if len(box) == 1 {
			if v := box[0]; v.Sender != "103" || v.Duration < 2*time.Second {
				t.Errorf("message: %+v", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailbox of 102: %+v", box)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
