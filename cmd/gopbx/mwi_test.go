package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/internal/store"
)

// TestMWI checks message waiting indication on the real server: 102 only
// registers and gets unsolicited NOTIFYs, 101 subscribes over TCP and gets
// them in its subscription, and another tenant's 102 hears nothing. The
// voicemails are inserted directly and announced through Main.mwi, as the
// voicemail app does once a caller has left one.
func TestMWI(t *testing.T) {
	m := mustRunMain(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if m.mwi == nil {
		t.Fatal("Main.mwi not set")
	}
	acme := provisionTenant(t, m, "acme.test", "101", "102")
	beta := provisionTenant(t, m, "beta.test", "102")
	watcher := func(tn testTenant, transport, ext string) *siptest.Watcher {
		return siptest.NewWatcher(t, siptest.Config{Server: m.SIP.Addr(transport), Transport: transport, Domain: tn.Domain,
			User: ext, Password: sipPassword(tn.Domain, ext)})
	}
	w102, b102, w101 := watcher(acme, "udp", "102"), watcher(beta, "udp", "102"), watcher(acme, "tcp", "101")
	for _, w := range []*siptest.Watcher{w102, b102} {
		if res, err := w.Register(ctx, 300); err != nil || res.StatusCode != 200 {
			t.Fatalf("register: %v %v", res, err)
		}
	}
	if res, err := w101.Subscribe(ctx, "message-summary", 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", res, err)
	}
	n := nextMWI(t, w101)
	checkMWI(t, n, "active;expires=600", "Messages-Waiting: no\r\nMessage-Account: sip:101@acme.test\r\nVoice-Message: 0/0 (0/0)\r\n")

	leave := func(tn testTenant, userID string) {
		t.Helper()
		tid, err := pbx.ParseTenantID(tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		uid, err := pbx.ParseID(userID)
		if err != nil {
			t.Fatal(err)
		}
		v := store.Voicemail{User: uid, Sender: "103", Duration: 4 * time.Second, Path: "voicemail/test.wav"}
		if err := m.DB.CreateVoicemail(ctx, tid, &v); err != nil {
			t.Fatal(err)
		}
		m.mwi.MailboxChanged(ctx, tid, uid)
	}

	leave(acme, acme.Users["102"])
	n = nextMWI(t, w102)
	checkMWI(t, n, "terminated", "Messages-Waiting: yes\r\nMessage-Account: sip:102@acme.test\r\nVoice-Message: 1/0 (0/0)\r\n")
	if to := n.To(); to == nil || to.Params.Has("tag") {
		t.Fatalf("unsolicited NOTIFY inside a dialog:\n%s", n)
	}

	leave(acme, acme.Users["101"])
	n = nextMWI(t, w101)
	checkMWI(t, n, "active;expires=", "Messages-Waiting: yes\r\nMessage-Account: sip:101@acme.test\r\nVoice-Message: 1/0 (0/0)\r\n")
	if to := n.To(); to == nil || !to.Params.Has("tag") {
		t.Fatalf("subscription's NOTIFY outside its dialog:\n%s", n)
	}

	select {
	case n := <-b102.Notifies():
		t.Fatalf("beta.test's 102 heard acme.test's mailbox:\n%s", n)
	case n := <-w102.Notifies():
		t.Fatalf("second NOTIFY to 102:\n%s", n)
	case <-time.After(300 * time.Millisecond):
	}
}

func nextMWI(t *testing.T, w *siptest.Watcher) *sip.Request {
	t.Helper()
	select {
	case n := <-w.Notifies():
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no NOTIFY")
		return nil
	}
}

func checkMWI(t *testing.T, n *sip.Request, state, body string) {
	t.Helper()
	if got := string(n.Body()); got != body {
		t.Errorf("body = %q, want %q", got, body)
	}
	for name, want := range map[string]string{"Event": "message-summary", "Content-Type": "application/simple-message-summary",
		"Subscription-State": state} {
		h := n.GetHeader(name)
		if h == nil || !strings.HasPrefix(h.Value(), want) {
			t.Errorf("%s = %v, want %q", name, h, want)
		}
	}
}
