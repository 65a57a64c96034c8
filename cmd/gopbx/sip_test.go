package main

import (
	"context"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// provision creates a tenant and a user through the API, as an administrator
// would, and returns the user's ID.
func provision(t *testing.T, m *Main, domain, ext, sipPassword string) (tenant, user string) {
	t.Helper()
	tok := login(t, m, "admin", "Admin#12345", "")
	var id struct {
		ID string `json:"id"`
	}
	if st := apiCall(t, m, "POST", "/api/tenants", tok, map[string]any{"name": domain, "domain": domain, "timezone": "UTC",
		"currency": "USD", "region": "USA"}, &id); st != 201 && st != 200 {
		t.Fatalf("create tenant: %d", st)
	}
	tenant = id.ID
	if st := apiCall(t, m, "POST", "/api/tenants/switch?id="+tenant, tok, nil, nil); st/100 != 2 {
		t.Fatalf("switch: %d", st)
	}
	if st := apiCall(t, m, "POST", "/api/users", tok, map[string]any{"name": "u" + ext, "password": "Web#Pass1357", "email": "u" + ext + "@" + domain,
		"display_name": "User " + ext, "role": "StandardUser", "extension_number": ext, "extension_password": sipPassword,
		"voicemail_pin": "2468"}, &id); st != 201 && st != 200 {
		t.Fatalf("create user: %d", st)
	}
	return tenant, id.ID
}

// TestRegistrationThroughServe provisions a user through the API of the real
// server, registers a SIP phone for it, and sees the registration in the
// API, then removes it there.
func TestRegistrationThroughServe(t *testing.T) {
	for name, dsn := range storetest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			m := mustRunMain(t, "--db", dsn)
			_, user := provision(t, m, "acme.test", "101", "Sip#101pass")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, tr := range []string{"udp", "tcp"} {
				ua := siptest.New(t, siptest.Config{Server: m.SIP.Addr(tr), Transport: tr, Domain: "acme.test", User: "101", Password: "Sip#101pass"})
				res, err := ua.Register(ctx, 300)
				if err != nil || res.StatusCode != 200 {
					t.Fatalf("register over %s: %v %v", tr, res, err)
				}
			}
			tok := login(t, m, "admin", "Admin#12345", "")
			var tenants struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			apiCall(t, m, "GET", "/api/tenants", tok, nil, &tenants)
			apiCall(t, m, "POST", "/api/tenants/switch?id="+tenants.Items[0].ID, tok, nil, nil)
			var st struct {
				Status       string `json:"status"`
				Registration []struct {
					InstanceID     string `json:"instance_id"`
					ContactAddress string `json:"contact_address"`
					Transport      string `json:"transport"`
					IP             string `json:"ip"`
				} `json:"registration"`
			}
			if code := apiCall(t, m, "GET", "/api/users/"+user+"/status", tok, nil, &st); code != 200 || st.Status != "ONLINE" || len(st.Registration) != 2 {
				t.Fatalf("status: %d %+v", code, st)
			}
			if code := apiCall(t, m, "POST", "/api/users/"+user+"/status/"+st.Registration[0].InstanceID+"/destroy_status", tok, nil, nil); code/100 != 2 {
				t.Fatalf("destroy_status: %d", code)
			}
			apiCall(t, m, "GET", "/api/users/"+user+"/status", tok, nil, &st)
			if len(st.Registration) != 1 {
				t.Fatalf("after destroy_status: %+v", st)
			}
			// Deleting the user drops its registrations.
			if code := apiCall(t, m, "POST", "/api/users/"+user+"/destroy", tok, nil, nil); code/100 != 2 {
				t.Fatalf("destroy user: %d", code)
			}
			if got, _ := m.SIP.Registrar().Bindings(ctx, st2tenant(t, m, tok), mustID(t, user)); len(got) != 0 {
				t.Fatalf("bindings after the user was deleted: %+v", got)
			}
			// A wrong password gets no binding, and the same answer as an
			// unknown extension.
			bad := siptest.New(t, siptest.Config{Server: m.SIP.Addr("udp"), Domain: "acme.test", User: "101", Password: "wrong"})
			if res, err := bad.Register(ctx, 300); err == nil && res.StatusCode == 200 {
				t.Fatal("registered with a wrong password")
			}
		})
	}
}

func mustID(t *testing.T, s string) pbx.ID {
	t.Helper()
	id, err := pbx.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// st2tenant returns the ID of the only tenant, as the admin sees it.
func st2tenant(t *testing.T, m *Main, tok string) pbx.TenantID {
	t.Helper()
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	apiCall(t, m, "GET", "/api/tenants", tok, nil, &list)
	if len(list.Items) != 1 {
		t.Fatalf("tenants: %+v", list)
	}
	id, err := pbx.ParseTenantID(list.Items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
