package signaling_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/internal/store"
)

func (e *env) watcher(t testing.TB, transport, dom, user, pass string) *siptest.Watcher {
	return siptest.NewWatcher(t, siptest.Config{Server: e.srv.Addr(transport), Transport: transport, Domain: dom,
		User: user, Password: pass, Logger: testLogger(t)})
}

// nextNotify waits for the watcher's next NOTIFY.
func nextNotify(t *testing.T, w *siptest.Watcher) *sip.Request {
	t.Helper()
	select {
	case n := <-w.Notifies():
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no NOTIFY")
		return nil
	}
}

// noNotify checks that the watcher gets no NOTIFY for a while.
func noNotify(t *testing.T, w *siptest.Watcher) {
	t.Helper()
	select {
	case n := <-w.Notifies():
		t.Fatalf("unexpected NOTIFY:\n%s", n)
	case <-time.After(300 * time.Millisecond):
	}
}

func header(m interface{ GetHeader(string) sip.Header }, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// checkSummary checks a message-summary NOTIFY's headers and body.
func checkSummary(t *testing.T, n *sip.Request, state, account string, unread, read int) {
	t.Helper()
	waiting := "no"
	if unread > 0 {
		waiting = "yes"
	}
	want := "Messages-Waiting: " + waiting + "\r\nMessage-Account: " + account + "\r\nVoice-Message: " +
		strconv.Itoa(unread) + "/" + strconv.Itoa(read) + " (0/0)\r\n"
	if got := string(n.Body()); got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if got := header(n, "Event"); got != "message-summary" {
		t.Errorf("Event = %q", got)
	}
	if got := header(n, "Content-Type"); got != "application/simple-message-summary" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := header(n, "Subscription-State"); !strings.HasPrefix(got, state) {
		t.Errorf("Subscription-State = %q, want %q...", got, state)
	}
	if n.Contact() == nil {
		t.Error("NOTIFY without Contact")
	}
}

func toTag(m sip.Message) string {
	var to *sip.ToHeader
	switch v := m.(type) {
	case *sip.Request:
		to = v.To()
	case *sip.Response:
		to = v.To()
	}
	if to == nil {
		return ""
	}
	tag, _ := to.Params.Get("tag")
	return tag
}

func leaveVoicemail(t *testing.T, db *store.DB, tenant pbx.TenantID, user pbx.ID) store.Voicemail {
	t.Helper()
	v := store.Voicemail{User: user, Sender: "102", Duration: 3 * time.Second, Path: "voicemail/x.wav", Size: 100}
	if err := db.CreateVoicemail(ctxT(t), tenant, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMWISubscribe(t *testing.T) {
	e := newEnv(t, nil)
	u := e.users["101"]
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			ctx := ctxT(t)
			w := e.watcher(t, tr, domain, "101", password)
			res, err := w.Subscribe(ctx, "message-summary", -1)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("subscribe: %v %v", res, err)
			}
			if header(res, "Expires") != "3600" || toTag(res) == "" || res.Contact() == nil {
				t.Fatalf("200 lacks Expires 3600, To tag or Contact:\n%s", res)
			}
			n := nextNotify(t, w)
			checkSummary(t, n, "active;expires=3600", "sip:101@acme.test", 0, 0)
			if toTag(n) == "" || n.CallID().Value() != res.CallID().Value() {
				t.Fatalf("initial NOTIFY outside the dialog:\n%s", n)
			}

			v := leaveVoicemail(t, e.db, e.tenant.ID, u.ID)
			e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
			checkSummary(t, nextNotify(t, w), "active;expires=", "sip:101@acme.test", 1, 0)

			if err := e.db.SetVoicemailRead(ctx, e.tenant.ID, u.ID, v.ID, true); err != nil {
				t.Fatal(err)
			}
			e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
			checkSummary(t, nextNotify(t, w), "active;expires=", "sip:101@acme.test", 0, 1)

			// A refresh in the dialog extends it and reports the state again.
			if res, err := w.Resubscribe(ctx, 600); err != nil || res.StatusCode != 200 || header(res, "Expires") != "600" {
				t.Fatalf("refresh: %v %v", res, err)
			}
			checkSummary(t, nextNotify(t, w), "active;expires=600", "sip:101@acme.test", 0, 1)

			// Unsubscribe: 200, a final NOTIFY, then silence.
			if res, err := w.Resubscribe(ctx, 0); err != nil || res.StatusCode != 200 {
				t.Fatalf("unsubscribe: %v %v", res, err)
			}
			checkSummary(t, nextNotify(t, w), "terminated", "sip:101@acme.test", 0, 1)
			e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
			noNotify(t, w)
			if res, err := w.Resubscribe(ctx, 600); err != nil || res.StatusCode != 481 {
				t.Fatalf("refresh after unsubscribe: %v %v", res, err)
			}
			if _, err := e.db.DeleteVoicemail(ctx, e.tenant.ID, u.ID, v.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMWIExpiresBounds(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	w := e.watcher(t, "udp", domain, "101", password)
	if res, err := w.Subscribe(ctx, "message-summary", 10); err != nil || res.StatusCode != 423 || header(res, "Min-Expires") != "60" {
		t.Fatalf("too brief: %v %v", res, err)
	}
	res, err := w.Subscribe(ctx, "message-summary", 100000)
	if err != nil || res.StatusCode != 200 || header(res, "Expires") != "3600" {
		t.Fatalf("too long: %v %v", res, err)
	}
	nextNotify(t, w)
	// Expires 0 outside a dialog fetches the state once.
	if res, err := w.Subscribe(ctx, "message-summary", 0); err != nil || res.StatusCode != 200 {
		t.Fatalf("fetch: %v %v", res, err)
	}
	checkSummary(t, nextNotify(t, w), "terminated", "sip:101@acme.test", 0, 0)
}

func TestMWIRefusals(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	// Wrong password: challenged, then 403.
	bad := e.watcher(t, "udp", domain, "101", "nope")
	if res, err := bad.Subscribe(ctx, "message-summary", 600); err != nil || res.StatusCode != 403 {
		t.Fatalf("wrong password: %v %v", res, err)
	}
	noNotify(t, bad)

	// Another extension's mailbox, with one's own password.
	w := e.watcher(t, "udp", domain, "101", password)
	req, _ := w.NewRequest(sip.SUBSCRIBE, "sip:102@"+domain)
	req.AppendHeader(toHeader("102"))
	req.AppendHeader(sip.NewHeader("Event", "message-summary"))
	req.AppendHeader(sip.NewHeader("Contact", "<"+w.ContactURI()+">"))
	if res, err := w.Do(ctx, req); err != nil || res.StatusCode != 403 {
		t.Fatalf("foreign mailbox: %v %v", res, err)
	}

	// Other event packages, and a body the phone does not accept.
	for _, ev := range []string{"presence", "dialog", ""} {
		if res, err := w.Subscribe(ctx, ev, 600); err != nil || res.StatusCode != 489 {
			t.Fatalf("event %q: %v %v", ev, res, err)
		}
	}
	req, _ = w.NewRequest(sip.SUBSCRIBE, "sip:101@"+domain)
	req.AppendHeader(toHeader("101"))
	req.AppendHeader(sip.NewHeader("Event", "message-summary"))
	req.AppendHeader(sip.NewHeader("Accept", "application/pidf+xml"))
	req.AppendHeader(sip.NewHeader("Contact", "<"+w.ContactURI()+">"))
	if res, err := w.Do(ctx, req); err != nil || res.StatusCode != 406 {
		t.Fatalf("accept: %v %v", res, err)
	}
	noNotify(t, w)
}

// A subscription only ever sees its own tenant's mailbox, even for the
// same extension number.
func TestMWITenantIsolation(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	beta := pbx.Tenant{Name: "beta", Domain: "beta.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := e.db.CreateTenant(ctx, &beta); err != nil {
		t.Fatal(err)
	}
	bu := pbx.User{Name: "b101", Email: "101@beta.test", DisplayName: "b101", Role: pbx.RoleStandardUser,
		ExtensionNumber: "101", ExtensionPassword: "beta101", Enabled: true}
	if err := e.db.CreateUser(ctx, beta.ID, &bu); err != nil {
		t.Fatal(err)
	}
	wa := e.watcher(t, "udp", domain, "101", password)
	wb := e.watcher(t, "udp", "beta.test", "101", "beta101")
	for _, w := range []*siptest.Watcher{wa, wb} {
		if res, err := w.Subscribe(ctx, "message-summary", 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("subscribe: %v %v", res, err)
		}
	}
	checkSummary(t, nextNotify(t, wa), "active", "sip:101@acme.test", 0, 0)
	checkSummary(t, nextNotify(t, wb), "active", "sip:101@beta.test", 0, 0)

	leaveVoicemail(t, e.db, e.tenant.ID, e.users["101"].ID)
	e.srv.MailboxChanged(ctx, e.tenant.ID, e.users["101"].ID)
	checkSummary(t, nextNotify(t, wa), "active", "sip:101@acme.test", 1, 0)
	noNotify(t, wb)
	// Even a wrong pairing of tenant and user reaches nobody.
	e.srv.MailboxChanged(ctx, beta.ID, e.users["101"].ID)
	noNotify(t, wa)
	noNotify(t, wb)
}

// A user without subscriptions gets an unsolicited NOTIFY at each
// registered binding; once it subscribes, only the subscription hears.
func TestMWIUnsolicited(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	u := e.users["102"]
	w := e.watcher(t, "udp", domain, "102", "secret102")
	if res, err := w.Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	leaveVoicemail(t, e.db, e.tenant.ID, u.ID)
	e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
	n := nextNotify(t, w)
	checkSummary(t, n, "terminated", "sip:102@acme.test", 1, 0)
	if toTag(n) != "" || n.Recipient.User != "102" {
		t.Fatalf("unsolicited NOTIFY in a dialog or to the wrong URI:\n%s", n)
	}
	noNotify(t, w)

	if res, err := w.Subscribe(ctx, "message-summary", 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", res, err)
	}
	checkSummary(t, nextNotify(t, w), "active", "sip:102@acme.test", 1, 0)
	e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
	if n := nextNotify(t, w); toTag(n) == "" {
		t.Fatalf("NOTIFY outside the subscription:\n%s", n)
	}
	noNotify(t, w)
}

// A NOTIFY answered 481 ends the subscription: the next change goes to
// the registered binding instead.
func TestMWIDroppedOn481(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	u := e.users["101"]
	w := e.watcher(t, "udp", domain, "101", password)
	if res, err := w.Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	if res, err := w.Subscribe(ctx, "message-summary", 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", res, err)
	}
	nextNotify(t, w)
	w.AnswerNotify(481)
	e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
	if n := nextNotify(t, w); toTag(n) == "" {
		t.Fatalf("want the subscription's NOTIFY:\n%s", n)
	}
	w.AnswerNotify(200)
	time.Sleep(100 * time.Millisecond) // the 481 reaches the server
	e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
	if n := nextNotify(t, w); toTag(n) != "" || !strings.HasPrefix(header(n, "Subscription-State"), "terminated") {
		t.Fatalf("want an unsolicited NOTIFY:\n%s", n)
	}
}

// Subscriptions end by themselves on the server's clock.
func TestMWIExpiry(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := newEnv(t, func(c *signaling.Config) { c.Now = clk.now })
	ctx := ctxT(t)
	u := e.users["101"]
	w := e.watcher(t, "udp", domain, "101", password)
	if res, err := w.Subscribe(ctx, "message-summary", 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", res, err)
	}
	nextNotify(t, w)
	clk.advance(599 * time.Second)
	e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
	checkSummary(t, nextNotify(t, w), "active;expires=1", "sip:101@acme.test", 0, 0)
	clk.advance(2 * time.Second)
	e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
	noNotify(t, w)
	if res, err := w.Resubscribe(ctx, 600); err != nil || res.StatusCode != 481 {
		t.Fatalf("refresh after expiry: %v %v", res, err)
	}
}

// One user keeps at most signaling.MaxMWIPerUser subscriptions: a newer
// one replaces the oldest.
func TestMWIPerUserBound(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	u := e.users["101"]
	w := e.watcher(t, "udp", domain, "101", password)
	for i := 0; i <= signaling.MaxMWIPerUser; i++ {
		if res, err := w.Subscribe(ctx, "message-summary", 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("subscribe %d: %v %v", i, res, err)
		}
		nextNotify(t, w)
	}
	e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
	calls := map[string]bool{}
	for i := 0; i < signaling.MaxMWIPerUser; i++ {
		calls[nextNotify(t, w).CallID().Value()] = true
	}
	noNotify(t, w)
	if len(calls) != signaling.MaxMWIPerUser {
		t.Fatalf("NOTIFYs went to %d subscriptions, want %d", len(calls), signaling.MaxMWIPerUser)
	}
}

var _ interface {
	MailboxChanged(context.Context, pbx.TenantID, pbx.ID)
} = (*signaling.Server)(nil)
