//go:build !opus

package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"
)

// TestOpusAppRefusedWithoutTag: built without the opus tag, gopbx's apps
// have no Opus, so a caller that offers only Opus and reaches voicemail
// is refused with 488.
func TestOpusAppRefusedWithoutTag(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	caller := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: "101", Password: sipPassword(tn.Domain, "101"), Domain: tn.Domain,
		PBX: m.SIP.Addr("udp"), Register: true, Codecs: []string{"opus"}})
	if err := caller.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if err := caller.Dial(ctx, "sip:102@acme.test"); err != nil {
		t.Fatal(err)
	}
	_, err := caller.WaitEstablished(ctx)
	var closed *siptest.CallClosedError
	if !errors.As(err, &closed) || !strings.Contains(closed.Event.Param, "488") {
		t.Fatalf("got %v, want the call refused with 488", err)
	}
}
