package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"
)

// eventMWINotify is the event baresip's mwi module reports for each
// NOTIFY of its message-summary subscription; Param is the NOTIFY's body.
const eventMWINotify = "MWI_NOTIFY"

// TestBaresipMWI has a real phone (baresip 102, with its mwi module)
// subscribe to its message summary: it is told of no messages, then of
// one once baresip 101 has left a real voicemail (102 turned the call
// down, busy), and of none again once 102 has deleted the message through
// the API.
func TestBaresipMWI(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	phone := func(ext string, tone int, manual bool) *siptest.Baresip {
		p := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: ext, Password: sipPassword(tn.Domain, ext), Domain: tn.Domain,
			PBX: m.SIP.Addr("udp"), ToneHz: tone, Register: true, ManualAnswer: manual})
		if err := p.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caller, owner := phone("101", toneCaller, false), phone("102", toneCallee, true)
	loadMWI(ctx, t, owner, tn.Domain, m.SIP.Addr("udp"))
	const account = "Message-Account: sip:102@acme.test\r\n"
	waitMWI(ctx, t, owner, "Messages-Waiting: no\r\n"+account+"Voice-Message: 0/0 (0/0)\r\n")

	// 101 calls; 102 turns it down (486), so voicemail answers: the
	// greeting and the beep take about 7.2 s, then 101's tone is the
	// message.
	if err := caller.Dial(ctx, "sip:102@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.WaitEvent(ctx, siptest.EventCallIncoming); err != nil {
		t.Fatal(err)
	}
	if err := owner.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(9500 * time.Millisecond)
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	waitMWI(ctx, t, owner, "Messages-Waiting: yes\r\n"+account+"Voice-Message: 1/0 (0/0)\r\n")

	// 102 deletes the message through the API.
	user := login(t, m, "u102", webPassword, tn.Domain)
	var box struct {
		Items []struct {
			ID     string `json:"id"`
			Sender string `json:"sender"`
		} `json:"items"`
	}
	if st := apiCall(t, m, "GET", "/api/voicemails", user, nil, &box); st != 200 || len(box.Items) != 1 || box.Items[0].Sender != "101" {
		t.Fatalf("GET /api/voicemails: status %d, %+v, want one message from 101", st, box.Items)
	}
	if st := apiCall(t, m, "POST", "/api/voicemails/"+box.Items[0].ID+"/destroy", user, nil, nil); st/100 != 2 {
		t.Fatalf("delete voicemail: status %d", st)
	}
	waitMWI(ctx, t, owner, "Messages-Waiting: no\r\n"+account+"Voice-Message: 0/0 (0/0)\r\n")
}

// loadMWI loads baresip's mwi module into p, extension 102 of domain
// registered at pbx (siptest's config does not load it), and has it
// subscribe. The module subscribes when an account registers, so p's
// account is made anew, as siptest writes it. Loaded from the config at
// start instead, baresip 1.0.0's mwi module sends a new SUBSCRIBE (new
// Call-ID) right after gopbx's 200 to the first, without any message from
// gopbx in between, and then again after each, in a tight loop: the phone
// stops answering its control port, and gopbx's flood guard drops the
// SUBSCRIBEs.
func loadMWI(ctx context.Context, t *testing.T, p *siptest.Baresip, domain, pbx string) {
	t.Helper()
	if _, err := p.Command(ctx, "insmod", "mwi.so"); err != nil {
		t.Fatalf("load baresip's mwi module: %v", err)
	}
	aor := "sip:102@" + domain
	if _, err := p.Command(ctx, "uadel", aor); err != nil {
		t.Fatal(err)
	}
	acc := fmt.Sprintf(`<%s;transport=udp>;auth_user=102;auth_pass=%s;outbound="sip:%s;transport=udp";answermode=manual;regint=300;audio_codecs=PCMU,PCMA`,
		aor, sipPassword(domain, "102"), pbx)
	if _, err := p.Command(ctx, "uanew", acc); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
}

// waitMWI waits for p's next MWI_NOTIFY and checks its body.
func waitMWI(ctx context.Context, t *testing.T, p *siptest.Baresip, want string) {
	t.Helper()
	e, err := p.WaitEvent(ctx, eventMWINotify)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, p.Log())
	}
	// baresip hands the body as it came; compare line by line, whatever
	// the line ends.
	norm := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
	if got := norm(e.Param); got != norm(want) {
		t.Errorf("MWI_NOTIFY body:\n%s\nwant:\n%s", got, norm(want))
	}
}
