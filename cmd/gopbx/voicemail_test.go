package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/mailtest"
	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
)

// wavTones returns the power of each frequency in a WAV file, leaving out
// its first quarter.
func wavTones(t *testing.T, path string, freqs ...float64) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, err := audio.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 0, len(pcm))
	for _, v := range pcm[len(pcm)/4:] {
		x = append(x, float64(v))
	}
	out := make([]float64, len(freqs))
	for i, fr := range freqs {
		out[i] = siptest.Goertzel(x, fr, rate)
	}
	return out
}

// sendKeys has a baresip phone press keys, one every 250 ms.
func sendKeys(ctx context.Context, t *testing.T, p *siptest.Baresip, keys string) {
	t.Helper()
	for _, k := range keys {
		if _, err := p.Command(ctx, "sndcode", string(k)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// dialAnswered has phone p, once registered, call uri and waits until the
// call is answered (by a phone or an app).
func dialAnswered(ctx context.Context, t *testing.T, p *siptest.Baresip, uri string) {
	t.Helper()
	if err := p.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Dial(ctx, uri); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestVoicemailLeaveAndListen has baresip 101 call 102, whose phone is
// not registered: voicemail answers with 102's default greeting and records
// 101's tone. The message is in 102's mailbox with the tone in it, 102 gets
// it by email from a real SMTP server (mailpit) with the WAV attached, and
// 102 dials 777, logs in with its PIN by DTMF and hears the message.
func TestVoicemailLeaveAndListen(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	mp := mailtest.StartMailpit(t)
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	sys := login(t, m, "admin", "Admin#12345", "")
	host, port := mp.SMTPHostPort()
	if st := apiCall(t, m, "POST", "/api/admin/notification", sys, map[string]any{"type": "SMTP", "server": host, "port": port,
		"username": "pbx@gopbx.test", "password": "x", "auth": "DISABLE", "enable_tls_ssl": false, "enable_starttls_auto": false,
		"enable_tenant_access": true}, nil); st/100 != 2 {
		t.Fatalf("notification settings: %d", st)
	}
	if st := apiCall(t, m, "POST", "/api/users/"+tn.Users["102"], tn.Admin, map[string]any{"enable_voicemail_notify": true}, nil); st/100 != 2 {
		t.Fatalf("enable voicemail email: %d", st)
	}

	caller := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: "101", Password: sipPassword(tn.Domain, "101"), Domain: tn.Domain,
		PBX: m.SIP.Addr("udp"), ToneHz: toneCaller, Register: true})
	dialAnswered(ctx, t, caller, "sip:102@acme.test")
	// The greeting ("the person at extension 1 0 2 is not available...")
	// and the beep take about 7.2 s; then about 3 s of message.
	time.Sleep(10500 * time.Millisecond)
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	caller.Stop()

	// What the caller heard: the greeting's speech and the 1000 Hz beep.
	if e, err := caller.Heard(1000, toneCaller); err != nil || e[0] < 1e9 {
		t.Errorf("caller did not hear the beep: %v %v", e, err)
	}

	tenant, _ := pbx.ParseTenantID(tn.ID)
	user, _ := pbx.ParseID(tn.Users["102"])
	var path string
	deadline := time.Now().Add(5 * time.Second)
	for {
		box, err := m.DB.Mailbox(ctx, tenant, user)
		if err != nil {
			t.Fatal(err)
		}
		if len(box) == 1 {
			v := box[0]
			if v.Sender != "101" || v.Read || v.Duration < 2*time.Second || v.Duration > 6*time.Second {
				t.Errorf("message: %+v", v)
			}
			path = filepath.Join(m.Config.Data, v.Path)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailbox of 102: %+v", box)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if e := wavTones(t, path, toneCaller, 1000); e[0] < toneRatio*e[1] {
		t.Errorf("the message does not hold 101's tone: %.3g at %d Hz, %.3g at 1000 Hz", e[0], toneCaller, e[1])
	}

	// The email, with the message attached.
	sum, err := mp.WaitMessage(ctx, func(s mailtest.Summary) bool { return strings.Contains(s.Subject, "102") })
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mp.Message(ctx, sum.ID)
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := os.ReadFile(path)
	if len(msg.To) != 1 || msg.To[0].Address != "u102@acme.test" || len(msg.Attachments) != 1 || !bytes.Equal(msg.Attachments[0].Data, wav) {
		t.Errorf("email: to %+v, %d attachments", msg.To, len(msg.Attachments))
	}

	// 102 listens: 777, PIN 2468#, 1 for new messages, then 2 to save.
	owner := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: "102", Password: sipPassword(tn.Domain, "102"), Domain: tn.Domain,
		PBX: m.SIP.Addr("udp"), ToneHz: toneCallee, Register: true})
	dialAnswered(ctx, t, owner, "sip:777@acme.test")
	time.Sleep(time.Second)
	sendKeys(ctx, t, owner, "2468#")
	time.Sleep(1500 * time.Millisecond)
	sendKeys(ctx, t, owner, "1")
	// "message received today at ... from 1 0 1", then the 3 s message.
	time.Sleep(9 * time.Second)
	sendKeys(ctx, t, owner, "2")
	time.Sleep(time.Second)
	if err := owner.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	owner.WaitClosed(ctx)
	owner.Stop()
	if e, err := owner.Heard(toneCaller, toneCallee); err != nil || e[0] < 1e9 {
		t.Errorf("102 did not hear the message's %d Hz tone: %v %v", toneCaller, e, err)
	}
	box, _ := m.DB.Mailbox(ctx, tenant, user)
	if len(box) != 1 || !box[0].Read {
		t.Errorf("after listening and saving: %+v", box)
	}
}
