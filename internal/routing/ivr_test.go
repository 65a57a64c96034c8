package routing_test

import (
	"context"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/routing"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// fakeIVRs is routing.IVRs over a map of number to IVR ID.
type fakeIVRs map[string]string

func (fakeIVRs) App() call.App { return namedApp("ivr") }

func (f fakeIVRs) Numbers(context.Context, pbx.TenantID) (map[string]string, error) { return f, nil }

// TestIVRRouting checks that a virtual receptionist's number, dialled by
// an extension or forwarded to by an inbound rule, goes to the IVR app.
func TestIVRRouting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.router = routing.New(routing.Deps{Store: f.db, Trunks: f.trunks, Now: func() time.Time { return f.now }, Voicemail: fakeVoicemail{},
			IVRs: fakeIVRs{"800": "77", "103": "78"}})
		f.now = at(t, monday10)
		if p := f.dial(t, f.alice, "800"); p.App != namedApp("ivr") || p.Target != "77" || p.Callee != "800" || p.Extension != "" || p.Reject != 0 {
			t.Errorf("dial 800: %+v", p)
		}
		if p := f.dial(t, f.alice, "102"); p.App != nil || p.Extension != "102" {
			t.Errorf("dial 102: %+v", p)
		}
		// The inbound rule of DIDs 1000-1049 forwards to 103.
		if p := f.arrive(t, f.p1, "5551000", "1010"); p.App != namedApp("ivr") || p.Target != "78" || p.Callee != "103" || p.Reject != 0 {
			t.Errorf("inbound to an IVR: %+v", p)
		}
		r := f.router
		if p, ok := r.VoicemailPlan(pbx.Tenant{ID: f.a.ID}, "102"); !ok || p.App != namedApp("deposit") || p.Target != "102" {
			t.Errorf("VoicemailPlan: %+v %v", p, ok)
		}
	})
}
