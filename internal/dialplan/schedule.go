package dialplan

import (
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Clock is a time of day in minutes since midnight, 0 to 1440.
type Clock int

// ParseClock parses PortSIP's "HH:MM" office-hours form. "24:00" is accepted
// as the end of the day. Anything else is an EINVALID error.
func ParseClock(s string) (Clock, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, pbx.Errorf(pbx.EINVALID, "invalid time of day %q", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 24 || m > 59 || (h == 24 && m != 0) || h < 0 || m < 0 {
		return 0, pbx.Errorf(pbx.EINVALID, "invalid time of day %q", s)
	}
	return Clock(h*60 + m), nil
}

// String returns the "HH:MM" form.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// TimeRange is one from/to pair of an office-hours day. From is inclusive and
// To exclusive. A range whose To is not after From runs past midnight
// (22:00–06:00 covers 22:00..23:59 and 00:00..05:59 of the same weekday
// entry); this is our reading, as PortSIP does not document overnight ranges.
type TimeRange struct {
	From, To Clock
}

func (r TimeRange) contains(c Clock) bool {
	if r.To > r.From {
		return c >= r.From && c < r.To
	}
	return c >= r.From || c < r.To
}

// Day is one weekday of an office_hours object.
type Day struct {
	Enabled bool
	// Ranges are the open periods. An enabled day without ranges is open all
	// day.
	Ranges []TimeRange
}

// OfficeHours mirrors the office_hours object (monday..sunday, each
// {enabled, ranges[{from, to}]}), indexed by time.Weekday (Sunday = 0).
// A rule whose office_hours mode is GLOBAL uses the tenant's office hours;
// the caller resolves that before building a table. A nil *OfficeHours means
// always open.
type OfficeHours [7]Day

// Open reports whether t, already in the tenant's time zone, is within
// office hours. A nil receiver is always open.
func (o *OfficeHours) Open(t time.Time) bool {
	if o == nil {
		return true
	}
	d := o[t.Weekday()]
	if !d.Enabled {
		return false
	}
	if len(d.Ranges) == 0 {
		return true
	}
	c := Clock(t.Hour()*60 + t.Minute())
	for _, r := range d.Ranges {
		if r.contains(c) {
			return true
		}
	}
	return false
}

// Holiday mirrors the PortSIP holiday object (POST /holidays).
//
// Interpretation, as the reference gives only field names:
//   - Consecutive: one continuous period from the start
//     year/month/day hour:minute to the end year/month/day hour:minute.
//   - Not consecutive: every day from the start date to the end date, each
//     between start hour:minute and end hour:minute.
//   - EveryYear: the years are ignored and the period recurs each year; a
//     period whose start is after its end wraps over New Year.
//
// The end minute is exclusive. An all-zero hour/minute pair at both ends of
// a non-consecutive holiday means the whole day.
//
// Its JSON is the holiday spec the API stores (POST /holidays), so that
// every reader of a stored holiday decodes it the same way.
type Holiday struct {
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

// Contains reports whether t, already in the tenant's time zone, falls in
// the holiday.
func (h Holiday) Contains(t time.Time) bool {
	y, mo, d := t.Date()
	tod := t.Hour()*60 + t.Minute()
	date := func(y, mo, d int) int {
		if h.EveryYear {
			y = 0
		}
		return (y*100+mo)*100 + d
	}
	now := date(y, int(mo), d)
	ds, de := date(h.YearStart, h.MonthStart, h.DayStart), date(h.YearEnd, h.MonthEnd, h.DayEnd)
	ts, te := h.HourStart*60+h.MinuteStart, h.HourEnd*60+h.MinuteEnd
	if h.Consecutive {
		k := now*1440 + tod
		return within(k, ds*1440+ts, de*1440+te)
	}
	if !withinInclusive(now, ds, de) {
		return false
	}
	if ts == 0 && te == 0 {
		return true
	}
	return tod >= ts && tod < te
}

// within reports lo <= k < hi, wrapping when lo > hi (only possible for
// every-year periods over New Year).
func within(k, lo, hi int) bool {
	if lo <= hi {
		return k >= lo && k < hi
	}
	return k >= lo || k < hi
}

func withinInclusive(k, lo, hi int) bool {
	if lo <= hi {
		return k >= lo && k <= hi
	}
	return k >= lo || k <= hi
}

func inHolidays(t time.Time, lists ...[]Holiday) bool {
	for _, l := range lists {
		for _, h := range l {
			if h.Contains(t) {
				return true
			}
		}
	}
	return false
}

func localTime(at time.Time, tz *time.Location) time.Time {
	if tz == nil {
		return at
	}
	return at.In(tz)
}
