package ivr

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/pbx"
)

// The office-hours JSON the API writes (internal/api/rules.go), for a
// custom rule's own hours and the tenant's (mode GLOBAL).

type rangeJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type dayJSON struct {
	Enabled bool        `json:"enabled"`
	Ranges  []rangeJSON `json:"ranges"`
}

type hoursJSON struct {
	Mode      string   `json:"mode"`
	Sunday    *dayJSON `json:"sunday"`
	Monday    *dayJSON `json:"monday"`
	Tuesday   *dayJSON `json:"tuesday"`
	Wednesday *dayJSON `json:"wednesday"`
	Thursday  *dayJSON `json:"thursday"`
	Friday    *dayJSON `json:"friday"`
	Saturday  *dayJSON `json:"saturday"`
}

type holidayJSON struct {
	Consecutive bool `json:"consecutive"`
	EveryYear   bool `json:"every_year"`
	YearStart   int  `json:"year_start"`
	YearEnd     int  `json:"year_end"`
	MonthStart  int  `json:"month_start"`
	MonthEnd    int  `json:"month_end"`
	DayStart    int  `json:"day_start"`
	DayEnd      int  `json:"day_end"`
	HourStart   int  `json:"hour_start"`
	HourEnd     int  `json:"hour_end"`
	MinuteStart int  `json:"minute_start"`
	MinuteEnd   int  `json:"minute_end"`
}

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
func (x *session) hours(h *hoursJSON) *dialplan.OfficeHours {
	if h == nil {
		return nil
	}
	if h.Mode == "GLOBAL" {
		var ts struct {
			OfficeHours *hoursJSON `json:"office_hours"`
		}
		if len(x.c.Tenant.Settings) > 0 {
			json.Unmarshal(x.c.Tenant.Settings, &ts)
		}
		o := convertHours(ts.OfficeHours)
		if o == nil {
			return nil
		}
		for _, d := range o {
			if d.Enabled {
				return o
			}
		}
		return nil
	}
	return convertHours(h)
}

// convertHours turns office_hours JSON into dialplan's; a weekday left out
// is closed, a range that does not parse is dropped.
func convertHours(h *hoursJSON) *dialplan.OfficeHours {
	if h == nil {
		return nil
	}
	var o dialplan.OfficeHours
	for wd, d := range [7]*dayJSON{h.Sunday, h.Monday, h.Tuesday, h.Wednesday, h.Thursday, h.Friday, h.Saturday} {
		if d == nil {
			continue
		}
		o[wd].Enabled = d.Enabled
		for _, r := range d.Ranges {
			from, err1 := dialplan.ParseClock(r.From)
			to, err2 := dialplan.ParseClock(r.To)
			if err1 == nil && err2 == nil {
				o[wd].Ranges = append(o[wd].Ranges, dialplan.TimeRange{From: from, To: to})
			}
		}
	}
	return &o
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
		var hj holidayJSON
		if json.Unmarshal(h.Spec, &hj) == nil && dialplan.Holiday(hj).Contains(now) {
			return true
		}
	}
	return false
}
