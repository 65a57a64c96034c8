package registrar_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/registrar"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// registerOver is fixture.register from another source and transport.
func (f *fixture) registerOver(t *testing.T, transport, source, callID string, cseq int, contacts ...string) *sip.Response {
	t.Helper()
	raw := "REGISTER sip:acme.test SIP/2.0\r\n" +
		"Via: SIP/2.0/" + transport + " " + source + ";branch=z9hG4bK" + callID + strconv.Itoa(cseq) + "\r\n" +
		"From: <sip:101@acme.test>;tag=1\r\nTo: <sip:101@acme.test>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: " + strconv.Itoa(cseq) + " REGISTER\r\nExpires: 300\r\n"
	for _, c := range contacts {
		raw += "Contact: " + c + "\r\n"
	}
	msg, err := sip.NewParser().ParseSIP([]byte(raw + "Content-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f.reg.Register(context.Background(), registrar.Request{
		SIP: msg.(*sip.Request), Tenant: f.tn, User: f.user.ID, Extension: f.user.ExtensionNumber, Source: source, Transport: transport,
	})
}

func (f *fixture) contacts(t *testing.T) []string {
	t.Helper()
	bs, err := f.reg.Contacts(context.Background(), f.tn, "101")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bs {
		out = append(out, b.Contact)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMaxBindings(t *testing.T) {
	db := storetest.OpenSQLite(t)
	f := newFixture(t, db)
	var err error
	if f.reg, err = registrar.New(registrar.Config{Now: f.clock.now, MaxBindings: 3}, db); err != nil {
		t.Fatal(err)
	}
	check := func(step string, want ...string) {
		t.Helper()
		if got := f.contacts(t); !equal(got, want) {
			t.Fatalf("%s: contacts = %v, want %v", step, got, want)
		}
	}
	inst := func(n string) string {
		return `;+sip.instance="<urn:uuid:00000000-0000-1000-8000-00000000000` + n + `>";reg-id=1`
	}
	for i, c := range []string{"sip:101@10.0.0.1", "sip:101@10.0.0.2", "sip:101@10.0.0.3"} {
		f.clock.advance(time.Second)
		if res := f.register(t, "c"+strconv.Itoa(i), 1, "300", "<"+c+">"); res.StatusCode != 200 {
			t.Fatalf("register %s: got %d", c, res.StatusCode)
		}
	}
	check("three", "sip:101@10.0.0.1", "sip:101@10.0.0.2", "sip:101@10.0.0.3")

	// A refresh takes no new place.
	f.clock.advance(time.Second)
	f.register(t, "c0", 2, "300", "<sip:101@10.0.0.1>")
	check("refresh", "sip:101@10.0.0.1", "sip:101@10.0.0.2", "sip:101@10.0.0.3")

	// A fourth contact replaces the oldest one (registered first, even
	// though it was refreshed since).
	f.clock.advance(time.Second)
	if res := f.register(t, "c4", 1, "300", "<sip:101@10.0.0.4>"+inst("4")); res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 3 {
		t.Fatalf("fourth: got %d with %d contacts", res.StatusCode, len(res.GetHeaders("Contact")))
	}
	check("fourth", "sip:101@10.0.0.2", "sip:101@10.0.0.3", "sip:101@10.0.0.4")

	// An RFC 5626 phone that moves refreshes its own binding by instance
	// and reg-id: nobody else is replaced.
	f.clock.advance(time.Second)
	f.register(t, "c4b", 1, "300", "<sip:101@10.0.0.44>"+inst("4"))
	check("instance moved", "sip:101@10.0.0.2", "sip:101@10.0.0.3", "sip:101@10.0.0.44")

	// Expired bindings do not count.
	f.clock.advance(299 * time.Second) // .2 and .3 expire; .44 has 1 s left
	f.register(t, "c5", 1, "300", "<sip:101@10.0.0.5>", "<sip:101@10.0.0.6>")
	check("after expiry", "sip:101@10.0.0.44", "sip:101@10.0.0.5", "sip:101@10.0.0.6")

	// One request naming more than the limit is refused and changes nothing.
	res := f.register(t, "c7", 1, "300", "<sip:101@10.0.0.7>", "<sip:101@10.0.0.8>", "<sip:101@10.0.0.9>", "<sip:101@10.0.0.10>")
	if res.StatusCode != 403 {
		t.Fatalf("four at once: got %d, want 403", res.StatusCode)
	}
	check("four at once", "sip:101@10.0.0.44", "sip:101@10.0.0.5", "sip:101@10.0.0.6")

	// The database agrees after a flush.
	if err := f.reg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r2, err := registrar.New(registrar.Config{Now: f.clock.now}, db)
	if err != nil {
		t.Fatal(err)
	}
	f.reg = r2
	check("reloaded", "sip:101@10.0.0.44", "sip:101@10.0.0.5", "sip:101@10.0.0.6")
}

func TestRemoveFlow(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	f.registerOver(t, "TCP", "192.0.2.7:40001", "a", 1, "<sip:101@10.0.0.1;transport=tcp>", "<sip:101@10.0.0.2;transport=tcp>")
	f.registerOver(t, "TLS", "192.0.2.7:40001", "b", 1, "<sip:101@10.0.0.3;transport=tls>")
	f.registerOver(t, "UDP", "192.0.2.7:40001", "c", 1, "<sip:101@10.0.0.4>")
	f.registerOver(t, "TCP", "192.0.2.7:40002", "d", 1, "<sip:101@10.0.0.5;transport=tcp>")
	if n := f.reg.RemoveFlow(ctx, "udp", "192.0.2.7:40001"); n != 0 {
		t.Fatalf("RemoveFlow over UDP removed %d", n)
	}
	if n := f.reg.RemoveFlow(ctx, "tcp", "192.0.2.7:40001"); n != 2 {
		t.Fatalf("RemoveFlow removed %d, want 2", n)
	}
	if got, want := f.contacts(t), []string{"sip:101@10.0.0.3;transport=tls", "sip:101@10.0.0.4", "sip:101@10.0.0.5;transport=tcp"}; !equal(got, want) {
		t.Fatalf("contacts = %v, want %v", got, want)
	}
	// The phone moved to a new connection and refreshed: the old one's
	// close removes nothing.
	f.registerOver(t, "TCP", "192.0.2.7:40009", "d", 2, "<sip:101@10.0.0.5;transport=tcp>")
	if n := f.reg.RemoveFlow(ctx, "TCP", "192.0.2.7:40002"); n != 0 {
		t.Fatalf("RemoveFlow of a replaced flow removed %d", n)
	}
	if n := f.reg.RemoveFlow(ctx, "TCP", "192.0.2.7:40009"); n != 1 {
		t.Fatalf("RemoveFlow removed %d, want 1", n)
	}
}
