package voicemail_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/apps/voicemail"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// TestSweepHonoursRetainDays keeps messages younger than the tenant's
// retain_days and removes older ones, row and file; a tenant that keeps
// messages for ever (0) loses none.
func TestSweepHonoursRetainDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		data := t.TempDir()
		var tenants []pbx.TenantID
		for _, d := range []string{"a.test", "b.test"} {
			tn := pbx.Tenant{Name: d, Domain: d, Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: 10}
			if err := db.CreateTenant(ctx, &tn); err != nil {
				t.Fatal(err)
			}
			tenants = append(tenants, tn.ID)
		}
		if err := db.SetSetting(ctx, "voicemail:"+tenants[1].String(), map[string]any{"retain_days": 0}); err != nil {
			t.Fatal(err)
		}
		for _, tn := range tenants {
			for _, age := range []int{40, 10} {
				name := filepath.Join("voicemail", tn.String(), fmt.Sprintf("m%d.wav", age))
				os.MkdirAll(filepath.Join(data, filepath.Dir(name)), 0o750)
				os.WriteFile(filepath.Join(data, name), []byte("RIFF"), 0o640)
				v := store.Voicemail{User: 7, Sender: "1", Path: name, CreatedAt: now.AddDate(0, 0, -age)}
				if err := db.CreateVoicemail(ctx, tn, &v); err != nil {
					t.Fatal(err)
				}
			}
		}
		svc := voicemail.New(voicemail.Config{Data: data, Now: func() time.Time { return now }}, db, nil, nil)
		n, err := svc.Sweep(ctx, db)
		if err != nil || n != 1 {
			t.Fatalf("sweep removed %d, %v; want 1 (tenant a's 40-day-old message)", n, err)
		}
		if box, _ := db.Mailbox(ctx, tenants[0], 7); len(box) != 1 || now.Sub(box[0].CreatedAt) > 11*24*time.Hour {
			t.Errorf("tenant a's mailbox after the sweep: %+v", box)
		}
		if _, err := os.Stat(filepath.Join(data, "voicemail", tenants[0].String(), "m40.wav")); !os.IsNotExist(err) {
			t.Errorf("the expired message's file is still there: %v", err)
		}
		if box, _ := db.Mailbox(ctx, tenants[1], 7); len(box) != 2 {
			t.Errorf("tenant b keeps messages for ever, has %d", len(box))
		}
	})
}
