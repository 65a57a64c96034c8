package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/internal/store"
)

// promptToneHz is the tone of the replacement prompt: neither phone's tone
// nor the voicemail beep.
const promptToneHz = 1700

// toneWAV returns a WAV of secs seconds of a tone at hz, at rate Hz.
func toneWAV(t *testing.T, rate int, hz float64, secs int) []byte {
	t.Helper()
	g, err := audio.NewToneGenerator(rate, 8000, hz)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, rate*secs)
	g.Read(pcm)
	var b bytes.Buffer
	w, err := audio.NewWAVStreamWriter(&b, rate, int64(len(pcm)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPromptReplacedThroughAPI has a tenant administrator replace the
// voicemail prompt "not available" with a 1700 Hz tone through the API:
// baresip 101 then calls 102, who is not registered, and hears the tone in
// 102's default greeting. Once the replacement is removed, the next caller
// hears the shipped prompt again, without the tone.
func TestPromptReplacedThroughAPI(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	file := uploadFile(t, m, tn.Admin, "not-available.wav", toneWAV(t, 16000, promptToneHz, 2))
	if st := apiCall(t, m, "POST", "/api/prompts/replace", tn.Admin, map[string]string{"name": "vm/not-available", "language": "en", "file_id": file}, nil); st/100 != 2 {
		t.Fatalf("replace prompt: status %d", st)
	}

	// heard calls 102 and returns the power of the prompt's tone and of
	// the caller's own tone in what 101 heard of the greeting.
	heard := func() []float64 {
		t.Helper()
		p := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: "101", Password: sipPassword(tn.Domain, "101"), Domain: tn.Domain,
			PBX: m.SIP.Addr("udp"), ToneHz: toneCaller, Register: true})
		defer p.Stop()
		dialAnswered(ctx, t, p, "sip:102@acme.test")
		// "The person at extension 1 0 2", then the replaced prompt.
		time.Sleep(9 * time.Second)
		if err := p.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		p.WaitClosed(ctx)
		p.Stop()
		e, err := p.Heard(promptToneHz, toneCaller)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if e := heard(); e[0] < 1e9 {
		t.Errorf("the caller did not hear the replaced prompt's %d Hz: %v", promptToneHz, e)
	}
	if st := apiCall(t, m, "POST", "/api/prompts/destroy", tn.Admin, map[string]string{"name": "vm/not-available", "language": "en"}, nil); st/100 != 2 {
		t.Fatalf("restore prompt: status %d", st)
	}
	if e := heard(); e[0] > 1e8 {
		t.Errorf("after the replacement was removed the caller still heard %d Hz: %v", promptToneHz, e)
	}
}

// TestVoicemailUserPromptSettings checks two voicemail fields of PortSIP's
// user, by what baresip 102 hears when it dials 777. voicemail_prompt
// "de-DE" plays the box's prompts in German: the tenant's German "enter
// password" (a 1700 Hz tone, uploaded through the API) is heard.
// voicemail_play_datetime DISABLE leaves out when a message came, so the
// German "received" (a 2300 Hz tone) is not heard; 24_HOUR_CLOCK reads it.
func TestVoicemailUserPromptSettings(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const receivedHz = 2300
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	for name, hz := range map[string]float64{"vm/enter-password": promptToneHz, "received": receivedHz} {
		file := uploadFile(t, m, tn.Admin, strings.ReplaceAll(name, "/", "-")+".wav", toneWAV(t, 8000, hz, 1))
		if st := apiCall(t, m, "POST", "/api/prompts/replace", tn.Admin, map[string]string{"name": name, "language": "de", "file_id": file}, nil); st/100 != 2 {
			t.Fatalf("replace %s: status %d", name, st)
		}
	}
	// A message from 101 in 102's mailbox.
	tenant, _ := pbx.ParseTenantID(tn.ID)
	user, _ := pbx.ParseID(tn.Users["102"])
	rel := filepath.Join("voicemail", tn.ID, tn.Users["102"], "m1.wav")
	if err := os.MkdirAll(filepath.Join(m.Config.Data, filepath.Dir(rel)), 0o750); err != nil {
		t.Fatal(err)
	}
	msg := toneWAV(t, 8000, toneCaller, 1)
	if err := os.WriteFile(filepath.Join(m.Config.Data, rel), msg, 0o640); err != nil {
		t.Fatal(err)
	}
	v := store.Voicemail{User: user, Sender: "101", Duration: time.Second, Path: rel, Size: int64(len(msg)), CreatedAt: time.Now()}
	if err := m.DB.CreateVoicemail(ctx, tenant, &v); err != nil {
		t.Fatal(err)
	}

	// listen has 102 log in to 777 with its PIN and play the new message,
	// and returns the power of the two tones in what it heard.
	listen := func(clock, key string) []float64 {
		t.Helper()
		if st := apiCall(t, m, "POST", "/api/users/"+tn.Users["102"], tn.Admin,
			map[string]any{"voicemail_prompt": "de-DE", "voicemail_play_datetime": clock}, nil); st/100 != 2 {
			t.Fatalf("update 102: status %d", st)
		}
		p := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: "102", Password: sipPassword(tn.Domain, "102"), Domain: tn.Domain,
			PBX: m.SIP.Addr("udp"), ToneHz: toneCallee, Register: true})
		defer p.Stop()
		dialAnswered(ctx, t, p, "sip:777@acme.test")
		time.Sleep(1500 * time.Millisecond)
		sendKeys(ctx, t, p, "2468#")
		time.Sleep(1500 * time.Millisecond)
		sendKeys(ctx, t, p, key)
		// "message received today at 14 30 from 1 0 1", then the message.
		time.Sleep(6 * time.Second)
		if err := p.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		p.WaitClosed(ctx)
		p.Stop()
		return heardAll(t, p, promptToneHz, receivedHz, toneCaller)
	}
	e := listen("DISABLE", "1")
	if e[0] < 1e9 {
		t.Errorf("102 did not hear its German enter-password prompt (%d Hz): %v", promptToneHz, e)
	}
	if e[1] > 1e8 {
		t.Errorf("with voicemail_play_datetime DISABLE 102 heard %q (%d Hz): %v", "received", receivedHz, e)
	}
	if e[2] < 1e9 {
		t.Errorf("102 did not hear the message (%d Hz): %v", toneCaller, e)
	}
	// The message, heard to its end, is now a saved one: 2.
	if e := listen("24_HOUR_CLOCK", "2"); e[1] < 1e9 {
		t.Errorf("with voicemail_play_datetime 24_HOUR_CLOCK 102 did not hear %q (%d Hz): %v", "received", receivedHz, e)
	}
}

// heardAll returns the power of each frequency in the whole of what p heard
// in its last call; Baresip.Heard leaves out the first quarter, where the
// mailbox asks for the PIN.
func heardAll(t *testing.T, p *siptest.Baresip, freqs ...float64) []float64 {
	t.Helper()
	files := p.Recordings()
	if len(files) == 0 {
		t.Fatal("baresip recorded nothing")
	}
	samples, rate, err := siptest.ReadWAV(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(freqs))
	for i, f := range freqs {
		out[i] = siptest.Goertzel(samples, f, rate)
	}
	return out
}
