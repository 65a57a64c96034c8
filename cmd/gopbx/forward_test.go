package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"
)

// TestForwardRules has real phones follow PortSIP's user forward rules.
// 102's phone rings without answering; its no-answer rule forwards to 103
// after 3 s: 103 rings while 101 still hears ringing (nobody answered 101
// yet), and once 103 answers, baresip 101 talks with baresip 103 (each hears
// the other's tone). Then 102 turns on do-not-disturb with a rule that hangs
// up: 101's next call to 102 gets busy at once, and 102's phone never rings.
func TestForwardRules(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const tone103 = 1300
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102", "103")
	if st := apiCall(t, m, "POST", "/api/users/"+tn.Users["102"], tn.Admin, map[string]any{
		"available_no_answer_forward_rule": map[string]any{"action": "FORWARD_TO_NUMBER", "number": "103", "timeout": 3}}, nil); st/100 != 2 {
		t.Fatalf("update 102: status %d", st)
	}
	phone := func(ext string, hz int, manual bool) *siptest.Baresip {
		p := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: ext, Password: sipPassword(tn.Domain, ext), Domain: tn.Domain,
			PBX: m.SIP.Addr("udp"), ToneHz: hz, Register: true, ManualAnswer: manual})
		if err := p.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caller, unanswered, forwardee := phone("101", toneCaller, false), phone("102", toneCallee, true), phone("103", tone103, true)

	if err := caller.Dial(ctx, "sip:102@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := unanswered.WaitEvent(ctx, "CALL_INCOMING"); err != nil {
		t.Fatal(err)
	}
	// 103 rings while the caller is still unanswered: nobody took the call.
	if _, err := forwardee.WaitEvent(ctx, "CALL_INCOMING"); err != nil {
		t.Fatal(err)
	}
	if n := len(eventsOf(caller, "CALL_ESTABLISHED")); n != 0 {
		t.Fatal("the caller was answered before the forward's destination answered")
	}
	if err := forwardee.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := forwardee.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := forwardee.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	if e, err := caller.Heard(tone103, toneCallee); err != nil || e[0] < toneRatio*e[1] {
		t.Errorf("101 did not hear 103 (%d Hz): %v %v", tone103, e, err)
	}
	if e, err := forwardee.Heard(toneCaller, tone103); err != nil || e[0] < 1e9 {
		t.Errorf("103 did not hear 101 (%d Hz): %v %v", toneCaller, e, err)
	}

	// Do not disturb, hanging up: busy at once, nothing rings.
	if st := apiCall(t, m, "POST", "/api/users/"+tn.Users["102"], tn.Admin, map[string]any{"enable_dnd": true,
		"dnd_office_hours_forward_rule": map[string]any{"action": "HANGUP"}, "dnd_non_office_hours_forward_rule": map[string]any{"action": "HANGUP"}}, nil); st/100 != 2 {
		t.Fatalf("update 102: status %d", st)
	}
	incoming := len(eventsOf(unanswered, "CALL_INCOMING"))
	if err := caller.Dial(ctx, "sip:102@acme.test"); err != nil {
		t.Fatal(err)
	}
	ev, err := caller.WaitClosed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !containsAny(ev.Param, "486", "Busy") {
		t.Errorf("call to 102 on do-not-disturb ended with %q, want busy", ev.Param)
	}
	if n := len(eventsOf(unanswered, "CALL_INCOMING")); n != incoming {
		t.Errorf("102's phone rang while on do-not-disturb")
	}
}

// eventsOf returns the events of type typ that p reported so far.
func eventsOf(p *siptest.Baresip, typ string) []siptest.BaresipEvent {
	var out []siptest.BaresipEvent
	for _, e := range p.Events() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
