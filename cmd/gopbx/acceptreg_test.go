package main

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/siptest"
)

// TestAcceptRegisterTrunk runs an ACCEPT_REGISTER trunk end to end,
// configured through the API alone: a gateway on 127.0.0.5 registers to
// gopbx with the trunk's account, its call to a DID reaches extension 101,
// and 101's call to a national number reaches the gateway at the address
// it registered from.
func TestAcceptRegisterTrunk(t *testing.T) {
	const (
		gwUser, gwAuth, gwPassword = "gw-acme", "gw-acme-auth", "Gw#Accept-2026"
		did                        = "15550100"
		pstnCaller, national       = "14155550123", "3125550199"
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101")
	sys := login(t, m, "admin", "Admin#12345", "")
	pbxAddr := m.SIP.Addr("udp")
	pbxHost, _ := splitHostPort(t, pbxAddr)

	var id struct {
		ID string `json:"id"`
	}
	if st := apiCall(t, m, "POST", "/api/providers", sys, map[string]any{"name": "gateway", "auth_mode": "ACCEPT_REGISTER", "transport": "UDP",
		"hostname": "127.0.0.5", "port": 5060, "outbound_server": "127.0.0.5", "outbound_server_port": 5060,
		"username": gwUser, "auth_id": gwAuth, "password": gwPassword, "concurrency": 5}, &id); st != 201 {
		t.Fatalf("create the trunk: status %d", st)
	}
	trunkID := id.ID
	if st := apiCall(t, m, "POST", "/api/providers/"+trunkID+"/assignees/"+tn.ID, sys, map[string]any{"did_numbers": did, "concurrency": 5}, nil); st/100 != 2 {
		t.Fatalf("assign the trunk: status %d", st)
	}
	for _, r := range []struct {
		path string
		body map[string]any
	}{
		{"/api/inbound_rules", map[string]any{"name": "main", "did_numbers": did, "provider_id": trunkID,
			"office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_NUMBER", "number": "101"}}},
		{"/api/outbound_rules", map[string]any{"name": "national", "number_length": "10", "routes": []map[string]any{{"provider_id": trunkID}}}},
	} {
		if st := apiCall(t, m, "POST", r.path, tn.Admin, r.body, nil); st/100 != 2 {
			t.Fatalf("POST %s: status %d", r.path, st)
		}
	}
	status := func() trunkStatus {
		var st trunkStatus
		if code := apiCall(t, m, "GET", "/api/providers/"+trunkID+"/status", sys, nil, &st); code != 200 {
			t.Fatalf("trunk status: %d", code)
		}
		return st
	}
	if st := status(); st.Status != "OFFLINE" || st.RegistrationStatus != "UNREGISTERED" {
		t.Errorf("status before the gateway registers: %+v, want OFFLINE UNREGISTERED", st)
	}

	// The gateway registers with the trunk's account, to the PBX's address
	// (not a tenant's domain). The trunks load in the background, so the
	// first attempts may come before the account exists.
	gw := siptest.New(t, siptest.Config{Server: pbxAddr, Domain: pbxHost, User: gwUser, Password: gwPassword, LocalIP: "127.0.0.5"})
	for i := 0; ; i++ {
		res, err := gw.Register(ctx, 300)
		if err == nil && res.StatusCode == 200 {
			break
		}
		if i == 20 {
			t.Fatalf("gateway register: %v %v", res, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st := status(); st.Status != "ONLINE" || st.RegistrationStatus != "REGISTERED" {
		t.Errorf("status after the gateway registered: %+v, want ONLINE REGISTERED", st)
	}

	ext101 := siptest.New(t, siptest.Config{Server: pbxAddr, Domain: tn.Domain, User: "101", Password: sipPassword(tn.Domain, "101")})
	if res, err := ext101.Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("register 101: %v %v", res, err)
	}
	ext101.Answer(func(*sip.Request) (int, []byte) { return 200, siptest.SDP("127.0.0.1:9") })
	gw.Answer(func(*sip.Request) (int, []byte) { return 200, siptest.SDP("127.0.0.5:9") })

	t.Run("the gateway's call to the DID reaches 101", func(t *testing.T) {
		// Another socket of the gateway's address: its calls are the
		// trunk's by address, without credentials.
		caller := siptest.New(t, siptest.Config{Server: pbxAddr, Domain: pbxHost, User: pstnCaller, LocalIP: "127.0.0.5"})
		d, err := caller.Invite(ctx, "sip:"+did+"@"+pbxAddr, siptest.SDP("127.0.0.5:9"))
		if err != nil {
			t.Fatalf("call the DID: %v", err)
		}
		select {
		case req := <-ext101.Incoming():
			if req.From().Address.User != pstnCaller {
				t.Errorf("101 got From %s, want the caller %s", req.From().Value(), pstnCaller)
			}
		case <-ctx.Done():
			t.Fatal("101 got no INVITE")
		}
		if err := d.Bye(ctx); err != nil {
			t.Fatalf("bye: %v", err)
		}
	})

	t.Run("101's national call reaches the gateway", func(t *testing.T) {
		d, err := ext101.Invite(ctx, "sip:"+national+"@"+tn.Domain, siptest.SDP("127.0.0.1:9"))
		if err != nil {
			t.Fatalf("call %s: %v", national, err)
		}
		select {
		case req := <-gw.Incoming():
			host, port := splitHostPort(t, gw.LocalAddr())
			if req.Recipient.User != national || req.Recipient.Host != host || req.Recipient.Port != port {
				t.Errorf("gateway got Request-URI %s, want %s at its contact %s", req.Recipient.String(), national, gw.LocalAddr())
			}
		case <-ctx.Done():
			t.Fatal("the gateway got no INVITE")
		}
		if err := d.Bye(ctx); err != nil {
			t.Fatalf("bye: %v", err)
		}
	})

	// Unregistered, the trunk is down and its calls are refused.
	if res, err := gw.Register(ctx, 0); err != nil || res.StatusCode != 200 {
		t.Fatalf("gateway unregister: %v %v", res, err)
	}
	if st := status(); st.Status != "OFFLINE" || st.RegistrationStatus != "UNREGISTERED" {
		t.Errorf("status after the gateway unregistered: %+v, want OFFLINE UNREGISTERED", st)
	}
	if _, err := ext101.Invite(ctx, "sip:"+national+"@"+tn.Domain, siptest.SDP("127.0.0.1:9")); err == nil {
		t.Error("a call through the unregistered trunk was answered")
	}
}
