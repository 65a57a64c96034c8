package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/siptest"
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

// uploadPromptFile uploads b as a file of the tenant through PortSIP's
// chunked upload (/blobs/uploads: start, complete) and returns its ID.
func uploadPromptFile(t *testing.T, m *Main, token, name string, b []byte) string {
	t.Helper()
	do := func(path string, header map[string]string, body []byte) *http.Response {
		req, _ := http.NewRequest("POST", "http://"+m.APIAddr()+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := do("/api/blobs/uploads?filename="+url.QueryEscape(name), nil, nil)
	resp.Body.Close()
	id, tok := resp.Header.Get("PortSIP-Upload-ID"), resp.Header.Get("PortSIP-Upload-Token")
	if resp.StatusCode != 202 || id == "" {
		t.Fatalf("start upload: status %d", resp.StatusCode)
	}
	resp = do("/api/blobs/uploads/"+id+"/complete", map[string]string{"PortSIP-Upload-Token": tok}, b)
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 201 || out.ID == "" {
		t.Fatalf("complete upload: status %d, %v", resp.StatusCode, err)
	}
	return out.ID
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
	file := uploadPromptFile(t, m, tn.Admin, "not-available.wav", toneWAV(t, 16000, promptToneHz, 2))
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
		if err := p.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Dial(ctx, "sip:102@acme.test"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.WaitEstablished(ctx); err != nil {
			t.Fatal(err)
		}
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
