package voicemail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// Retention is what the retention sweep needs of the store; *store.DB has
// it.
type Retention interface {
	VoicemailTenants(ctx context.Context) ([]pbx.TenantID, error)
	ExpiredVoicemails(ctx context.Context, tenant pbx.TenantID, cutoff time.Time, limit int) ([]store.Voicemail, error)
	DeleteVoicemail(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID) (store.Voicemail, error)
	Setting(ctx context.Context, name string, v any) error
}

// DefaultRetainDays is PortSIP's retain_days.
const DefaultRetainDays = 30

// sweepBatch bounds one tenant's deletions per sweep, so that one sweep
// never holds the store for long; the next sweep goes on.
const sweepBatch = 500

// Sweep removes the messages older than their tenant's retain_days
// (/voicemail; 0 keeps messages for ever), row and file, and reports the
// mailboxes that changed. It returns how many it removed.
func (s *Service) Sweep(ctx context.Context, st Retention) (int, error) {
	tenants, err := st.VoicemailTenants(ctx)
	if err != nil {
		return 0, fmt.Errorf("voicemail sweep: %w", err)
	}
	removed := 0
	for _, t := range tenants {
		v := struct {
			RetainDays *int `json:"retain_days"`
		}{}
		if err := st.Setting(ctx, "voicemail:"+t.String(), &v); err != nil {
			return removed, fmt.Errorf("voicemail sweep: %w", err)
		}
		days := DefaultRetainDays
		if v.RetainDays != nil {
			days = *v.RetainDays
		}
		if days <= 0 {
			continue
		}
		old, err := st.ExpiredVoicemails(ctx, t, s.cfg.Now().AddDate(0, 0, -days), sweepBatch)
		if err != nil {
			return removed, fmt.Errorf("voicemail sweep: %w", err)
		}
		changed := map[pbx.ID]bool{}
		for _, m := range old {
			if _, err := st.DeleteVoicemail(ctx, t, m.User, m.ID); err != nil {
				return removed, fmt.Errorf("voicemail sweep: %w", err)
			}
			os.Remove(filepath.Join(s.cfg.Data, m.Path))
			changed[m.User] = true
			removed++
		}
		for u := range changed {
			s.changed(ctx, t, u)
		}
	}
	return removed, nil
}

// RunSweeps sweeps every interval until ctx ends.
func (s *Service) RunSweeps(ctx context.Context, st Retention, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx, st); err != nil {
			s.log.Warn("voicemail sweep", "error", err)
		} else if n > 0 {
			s.log.Info("voicemail sweep", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
