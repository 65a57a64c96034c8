package registrar_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/registrar"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

var _ registrar.Store = (*store.DB)(nil)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

type fixture struct {
	db    *store.DB
	reg   *registrar.Registrar
	clock *clock
	tn    pbx.TenantID
	user  pbx.User
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	tn := pbx.Tenant{Name: "acme", Domain: "acme.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	u := pbx.User{Name: "alice", Email: "a@acme.test", DisplayName: "Alice", Role: pbx.RoleStandardUser,
		ExtensionNumber: "101", ExtensionPassword: "pw", Enabled: true}
	if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	r, err := registrar.New(registrar.Config{Now: c.now}, db)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, reg: r, clock: c, tn: tn.ID, user: u}
}

// register builds and applies a REGISTER with the given Call-ID, CSeq,
// Expires header (empty: none) and Contact header values.
func (f *fixture) register(t *testing.T, callID string, cseq int, expires string, contacts ...string) *sip.Response {
	t.Helper()
	raw := "REGISTER sip:acme.test SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK" + callID + strconv.Itoa(cseq) + "\r\n" +
		"From: <sip:101@acme.test>;tag=1\r\nTo: <sip:101@acme.test>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: " + strconv.Itoa(cseq) + " REGISTER\r\n" +
		"User-Agent: test/1\r\nMax-Forwards: 70\r\n"
	if expires != "" {
		raw += "Expires: " + expires + "\r\n"
	}
	for _, c := range contacts {
		raw += "Contact: " + c + "\r\n"
	}
	raw += "Content-Length: 0\r\n\r\n"
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f.reg.Register(context.Background(), registrar.Request{
		SIP: msg.(*sip.Request), Tenant: f.tn, User: f.user.ID, Extension: f.user.ExtensionNumber, Source: "192.0.2.1:5060", Transport: "udp",
	})
}

// contactExpires maps each Contact URI of res to its expires parameter.
func contactExpires(t *testing.T, res *sip.Response) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, h := range res.GetHeaders("Contact") {
		v := h.Value()
		uri := v[strings.Index(v, "<")+1 : strings.Index(v, ">")]
		i := strings.Index(v, "expires=")
		exp := strings.SplitN(v[i+len("expires="):], ";", 2)[0]
		out[uri] = exp
	}
	return out
}

func TestRegister(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()

		// Two contacts, one with its own expiry, one with the header's.
		res := f.register(t, "c1", 1, "600", "<sip:101@10.0.0.1:5060>", "<sip:101@10.0.0.2:5070>;expires=120")
		if res.StatusCode != 200 {
			t.Fatalf("register: got %d", res.StatusCode)
		}
		got := contactExpires(t, res)
		want := map[string]string{"sip:101@10.0.0.1:5060": "600", "sip:101@10.0.0.2:5070": "120"}
		if len(got) != 2 || got["sip:101@10.0.0.1:5060"] != want["sip:101@10.0.0.1:5060"] || got["sip:101@10.0.0.2:5070"] != want["sip:101@10.0.0.2:5070"] {
			t.Fatalf("contacts = %v, want %v", got, want)
		}
		cs, err := f.reg.Contacts(ctx, f.tn, "101")
		if err != nil || len(cs) != 2 {
			t.Fatalf("Contacts = %v, %v", cs, err)
		}
		if cs[0].Source != "192.0.2.1:5060" || cs[0].Transport != "UDP" || cs[0].UserAgent != "test/1" {
			t.Fatalf("binding = %+v", cs[0])
		}

		// No Expires: the default; above the maximum: clamped.
		f.clock.advance(10 * time.Second)
		res = f.register(t, "c1", 2, "", "<sip:101@10.0.0.1:5060>", "<sip:101@10.0.0.2:5070>;expires=99999")
		got = contactExpires(t, res)
		if got["sip:101@10.0.0.1:5060"] != "300" || got["sip:101@10.0.0.2:5070"] != "3600" {
			t.Fatalf("default and clamp: contacts = %v", got)
		}

		// Too short: 423 with Min-Expires, and nothing changes.
		res = f.register(t, "c1", 3, "30", "<sip:101@10.0.0.3:5060>")
		if res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil || res.GetHeader("Min-Expires").Value() != "60" {
			t.Fatalf("too brief: got %d %v", res.StatusCode, res.GetHeader("Min-Expires"))
		}

		// An older CSeq of the same Call-ID is out of order.
		res = f.register(t, "c1", 2, "600", "<sip:101@10.0.0.1:5060>")
		if res.StatusCode != 500 {
			t.Fatalf("out of order: got %d, want 500", res.StatusCode)
		}

		// Query: no Contact lists the bindings.
		res = f.register(t, "c1", 4, "")
		if len(res.GetHeaders("Contact")) != 2 {
			t.Fatalf("query: got %d contacts", len(res.GetHeaders("Contact")))
		}

		// Removal of one contact with Expires 0.
		res = f.register(t, "c1", 5, "", "<sip:101@10.0.0.2:5070>;expires=0")
		if got := contactExpires(t, res); len(got) != 1 || got["sip:101@10.0.0.1:5060"] == "" {
			t.Fatalf("after removing one: %v", got)
		}

		// Wildcard needs Expires: 0.
		if res := f.register(t, "c1", 6, "60", "*"); res.StatusCode != 400 {
			t.Fatalf("wildcard with expires 60: got %d", res.StatusCode)
		}
		if res := f.register(t, "c1", 7, "0", "*"); res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 0 {
			t.Fatalf("wildcard removal: got %d %v", res.StatusCode, res.GetHeaders("Contact"))
		}
		if cs, _ := f.reg.Contacts(ctx, f.tn, "101"); len(cs) != 0 {
			t.Fatalf("left after wildcard: %v", cs)
		}
	})
}

func TestRegisterInstance(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	inst := `;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1`
	res := f.register(t, "a", 1, "300", "<sip:101@10.0.0.1:5060;transport=tcp>"+inst)
	if res.StatusCode != 200 || res.GetHeader("Require") == nil {
		t.Fatalf("got %d, Require %v", res.StatusCode, res.GetHeader("Require"))
	}
	if v := res.GetHeaders("Contact")[0].Value(); !strings.Contains(v, `+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"`) || !strings.Contains(v, "reg-id=1") {
		t.Fatalf("contact = %q", v)
	}
	// The phone moved (new IP, new Call-ID after a reboot): the same
	// instance refreshes its binding instead of adding one.
	res = f.register(t, "b", 1, "300", "<sip:101@10.0.0.9:5060;transport=tcp>"+inst)
	if n := len(res.GetHeaders("Contact")); n != 1 {
		t.Fatalf("after move: %d contacts, want 1", n)
	}
	bs, err := f.reg.Bindings(ctx, f.tn, f.user.ID)
	if err != nil || len(bs) != 1 || bs[0].InstanceID != "urn:uuid:00000000-0000-1000-8000-000A95A0E128" || bs[0].Contact != "sip:101@10.0.0.9:5060;transport=tcp" {
		t.Fatalf("Bindings = %+v, %v", bs, err)
	}
	if err := f.reg.Remove(ctx, f.tn, f.user.ID, "nope"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
		t.Fatalf("remove unknown: %v", err)
	}
	if err := f.reg.Remove(ctx, f.tn, f.user.ID, "urn:uuid:00000000-0000-1000-8000-000A95A0E128"); err != nil {
		t.Fatal(err)
	}
	f.register(t, "c", 1, "300", "<sip:101@10.0.0.5>")
	bs, _ = f.reg.Bindings(ctx, f.tn, f.user.ID)
	if len(bs) != 1 {
		t.Fatalf("bindings = %v", bs)
	}
	if err := f.reg.Remove(ctx, f.tn, f.user.ID, bs[0].ID.String()); err != nil {
		t.Fatalf("remove by id: %v", err)
	}
}

func TestExpiryAndSweep(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	f.register(t, "a", 1, "60", "<sip:101@10.0.0.1>")
	f.register(t, "a", 2, "", "<sip:101@10.0.0.2>;expires=600")
	f.clock.advance(61 * time.Second)
	cs, err := f.reg.Contacts(ctx, f.tn, "101")
	if err != nil || len(cs) != 1 || cs[0].Contact != "sip:101@10.0.0.2" {
		t.Fatalf("live contacts after 61 s = %v, %v", cs, err)
	}
	n, err := f.reg.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	// Run sweeps on its own and returns when ctx ends.
	f.clock.advance(600 * time.Second)
	r, err := registrar.New(registrar.Config{Now: f.clock.now, SweepInterval: time.Millisecond}, f.db)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		bs, _ := f.db.BindingsByUser(ctx, f.tn, f.user.ID)
		if len(bs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not sweep")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := registrar.New(registrar.Config{MinExpires: 600, DefaultExpires: 300}, storetest.OpenSQLite(t)); err == nil {
		t.Fatal("min > default accepted")
	}
}

// countingStore counts the rows the registrar writes back.
type countingStore struct {
	*store.DB
	batches, upserts, deletes int
}

func (c *countingStore) ApplyBindings(ctx context.Context, ups []pbx.Binding, dels []pbx.ID) ([]pbx.ID, error) {
	c.batches++
	c.upserts += len(ups)
	c.deletes += len(dels)
	return c.DB.ApplyBindings(ctx, ups, dels)
}

// TestWriteBack checks the write-back cache: lookups see a change at once,
// the database at the next flush, refreshes of one binding between flushes
// are written once, and a new Registrar on the same database (after Run of
// the old one returned) sees every binding with its last expiry and CSeq.
func TestWriteBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		cs := &countingStore{DB: db}
		r, err := registrar.New(registrar.Config{Now: f.clock.now, FlushInterval: time.Hour, SweepInterval: time.Hour}, cs)
		if err != nil {
			t.Fatal(err)
		}
		f.reg = r
		inst := `;+sip.instance="<urn:uuid:1>";reg-id=1`
		for i := 1; i <= 10; i++ {
			if res := f.register(t, "c1", i, "600", "<sip:101@10.0.0.1>", "<sip:101@10.0.0.2>"+inst); res.StatusCode != 200 {
				t.Fatalf("register %d: %d", i, res.StatusCode)
			}
			f.clock.advance(time.Second)
		}
		if got, _ := r.Contacts(ctx, f.tn, "101"); len(got) != 2 {
			t.Fatalf("Contacts = %v", got)
		}
		if got, _ := db.BindingsByUser(ctx, f.tn, f.user.ID); len(got) != 0 {
			t.Fatalf("written before a flush: %v", got)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if cs.batches != 1 || cs.upserts != 2 {
			t.Fatalf("10 refreshes of 2 bindings: %d batches, %d rows; want 1, 2", cs.batches, cs.upserts)
		}
		stored, _ := db.BindingsByUser(ctx, f.tn, f.user.ID)
		if len(stored) != 2 || stored[0].CSeq != 10 || !stored[0].ExpiresAt.Equal(f.clock.t.Add(-time.Second+600*time.Second)) {
			t.Fatalf("stored = %+v", stored)
		}
		if err := r.Flush(ctx); err != nil || cs.batches != 1 {
			t.Fatalf("empty flush: %v, %d batches", err, cs.batches)
		}

		// Remove: gone from lookups at once, from the database at the
		// next flush (here the one of Run's end), and an unregister with
		// Expires 0 likewise.
		if err := r.Remove(ctx, f.tn, f.user.ID, "urn:uuid:1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := r.Contacts(ctx, f.tn, "101"); len(got) != 1 || got[0].Contact != "sip:101@10.0.0.1" {
			t.Fatalf("Contacts after Remove = %v", got)
		}
		f.register(t, "c1", 11, "", "<sip:101@10.0.0.3>;expires=60")
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(runCtx) }()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		// A restart sees what the old Registrar held.
		r2, err := registrar.New(registrar.Config{Now: f.clock.now}, db)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r2.Contacts(ctx, f.tn, "101")
		if err != nil || len(got) != 2 || got[0].Contact != "sip:101@10.0.0.1" || got[1].Contact != "sip:101@10.0.0.3" {
			t.Fatalf("after restart: %+v, %v", got, err)
		}
		if got[0].CSeq != 10 || got[0].UserAgent != "test/1" || got[0].Transport != "UDP" {
			t.Fatalf("restored binding = %+v", got[0])
		}
		// The out-of-order check holds across the restart.
		f.reg = r2
		if res := f.register(t, "c1", 10, "600", "<sip:101@10.0.0.1>"); res.StatusCode != 500 {
			t.Fatalf("old CSeq after restart: got %d, want 500", res.StatusCode)
		}
		// Expiry: swept from memory and from the database.
		f.clock.advance(61 * time.Second)
		if n, err := r2.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("Sweep = %d, %v; want 1", n, err)
		}
		if stored, _ := db.BindingsByUser(ctx, f.tn, f.user.ID); len(stored) != 1 || stored[0].Contact != "sip:101@10.0.0.1" {
			t.Fatalf("stored after sweep = %+v", stored)
		}
		// Wildcard removal, persisted by Flush.
		if res := f.register(t, "c1", 12, "0", "*"); res.StatusCode != 200 {
			t.Fatalf("wildcard: %d", res.StatusCode)
		}
		if err := r2.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if stored, _ := db.BindingsByUser(ctx, f.tn, f.user.ID); len(stored) != 0 {
			t.Fatalf("stored after wildcard = %+v", stored)
		}
	})
}

// TestTenantIsolation checks that an extension number in one tenant does
// not see the contacts of the same number in another.
func TestTenantIsolation(t *testing.T) {
	db := storetest.OpenSQLite(t)
	f := newFixture(t, db)
	ctx := context.Background()
	tn := pbx.Tenant{Name: "other", Domain: "other.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	u := pbx.User{Name: "bob", Email: "b@other.test", DisplayName: "Bob", Role: pbx.RoleStandardUser,
		ExtensionNumber: "101", ExtensionPassword: "pw", Enabled: true}
	if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
		t.Fatal(err)
	}
	f.register(t, "a", 1, "300", "<sip:101@10.0.0.1>")
	g := *f
	g.tn, g.user = tn.ID, u
	g.register(t, "b", 1, "300", "<sip:101@10.0.0.2>")
	for _, c := range []struct {
		tn   pbx.TenantID
		want string
	}{{f.tn, "sip:101@10.0.0.1"}, {tn.ID, "sip:101@10.0.0.2"}} {
		got, err := f.reg.Contacts(ctx, c.tn, "101")
		if err != nil || len(got) != 1 || got[0].Contact != c.want {
			t.Fatalf("Contacts(%v) = %v, %v; want %s", c.tn, got, err, c.want)
		}
	}
	if bs, _ := f.reg.Bindings(ctx, tn.ID, f.user.ID); len(bs) != 0 {
		t.Fatalf("other tenant sees alice's bindings: %v", bs)
	}
	mine, _ := f.reg.Bindings(ctx, f.tn, f.user.ID)
	if err := f.reg.Remove(ctx, tn.ID, f.user.ID, mine[0].ID.String()); pbx.ErrorCode(err) != pbx.ENOTFOUND {
		t.Fatalf("Remove from other tenant: %v", err)
	}
}
