package ivr

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/pbx"
)

// ruleForward picks a custom rule's destination for now in the tenant's
// time zone: its holiday rule on one of its holidays, its non-office-hours
// rule outside its office hours, else its office-hours rule. A rule
// without office hours is always open, as is GLOBAL for a tenant that set
// none (routing reads them the same way).
func (x *session) ruleForward(ctx context.Context, r *customRule) forward {
	tz := time.UTC
	if x.c.Tenant.Timezone != "" {
		if l, err := time.LoadLocation(x.c.Tenant.Timezone); err == nil {
			tz = l
		}
	}
	now := x.s.cfg.Now().In(tz)
	if r.HolidayFwd != nil && r.HolidayFwd.Action != "" && x.onHoliday(ctx, r.HolidayIDs, now) {
		return *r.HolidayFwd
	}
	if r.NonOfficeFwd != nil && r.NonOfficeFwd.Action != "" && !x.hours(r.OfficeHours).Open(now) {
		return *r.NonOfficeFwd
	}
	if r.OfficeHoursFwd != nil {
		return *r.OfficeHoursFwd
	}
	return forward{}
}

// hours resolves a rule's office hours; nil is always open.
func (x *session) hours(h *dialplan.StoredHours) *dialplan.OfficeHours {
	if h == nil {
		return nil
	}
	if h.Mode == "GLOBAL" {
		var ts struct {
			OfficeHours *dialplan.StoredHours `json:"office_hours"`
		}
		if len(x.c.Tenant.Settings) > 0 {
			json.Unmarshal(x.c.Tenant.Settings, &ts)
		}
		if o := convertHours(ts.OfficeHours); o != nil && o.AnyDay() {
			return o
		}
		return nil
	}
	return convertHours(h)
}

// convertHours turns office_hours JSON into dialplan's; a weekday left out
// is closed, a range that does not parse is dropped.
func convertHours(h *dialplan.StoredHours) *dialplan.OfficeHours {
	o, _ := h.OfficeHours()
	return o
}

// onHoliday reports whether now falls in one of the holidays ids names;
// deleted ones are skipped.
func (x *session) onHoliday(ctx context.Context, ids []string, now time.Time) bool {
	for _, raw := range ids {
		id, err := pbx.ParseID(raw)
		if err != nil {
			continue
		}
		h, err := x.s.st.Holiday(ctx, x.c.Tenant.ID, id)
		if err != nil {
			continue
		}
		var hd dialplan.Holiday
		if json.Unmarshal(h.Spec, &hd) == nil && hd.Contains(now) {
			return true
		}
	}
	return false
}
