package dialplan

import (
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Clock
		ok   bool
	}{{"09:00", 540, true}, {"00:00", 0, true}, {"24:00", 1440, true}, {"23:59", 1439, true},
		{"24:01", 0, false}, {"9:00", 0, false}, {"09:60", 0, false}, {"ab:cd", 0, false}, {"", 0, false}} {
		got, err := ParseClock(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseClock(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if got, want := Clock(545).String(), "09:05"; got != want {
		t.Errorf("Clock(545).String() = %q, want %q", got, want)
	}
}

func TestOfficeHoursOpen(t *testing.T) {
	var night OfficeHours
	night[time.Wednesday] = Day{Enabled: true, Ranges: []TimeRange{{22 * 60, 6 * 60}}}
	night[time.Saturday] = Day{Enabled: true}
	wed := func(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, time.UTC) }
	for _, tt := range []struct {
		name string
		o    *OfficeHours
		at   time.Time
		want bool
	}{
		{"nil always open", nil, wed(3, 0), true},
		{"start inclusive", weekdays9to5(), wed(9, 0), true},
		{"end exclusive", weekdays9to5(), wed(17, 0), false},
		{"before", weekdays9to5(), wed(8, 59), false},
		{"weekend closed", weekdays9to5(), time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), false},
		{"overnight late", &night, wed(23, 0), true},
		{"overnight early", &night, wed(5, 59), true},
		{"overnight gap", &night, wed(12, 0), false},
		{"enabled day without ranges", &night, time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC), true},
	} {
		if got := tt.o.Open(tt.at); got != tt.want {
			t.Errorf("%s: Open(%v) = %v, want %v", tt.name, tt.at, got, tt.want)
		}
	}
}

func TestHolidayContains(t *testing.T) {
	d := func(y int, mo time.Month, day, h, m int) time.Time {
		return time.Date(y, mo, day, h, m, 0, 0, time.UTC)
	}
	newYear := Holiday{EveryYear: true, Consecutive: true, MonthStart: 12, DayStart: 31, HourStart: 18, MonthEnd: 1, DayEnd: 2}
	lunches := Holiday{YearStart: 2026, MonthStart: 3, DayStart: 1, YearEnd: 2026, MonthEnd: 3, DayEnd: 3, HourStart: 12, HourEnd: 13}
	for _, tt := range []struct {
		name string
		h    Holiday
		at   time.Time
		want bool
	}{
		{"wrap before", newYear, d(2026, 12, 31, 17, 59), false},
		{"wrap start", newYear, d(2026, 12, 31, 18, 0), true},
		{"wrap after new year", newYear, d(2027, 1, 1, 9, 0), true},
		{"wrap end exclusive", newYear, d(2027, 1, 2, 0, 0), false},
		{"daily window in", lunches, d(2026, 3, 2, 12, 30), true},
		{"daily window out", lunches, d(2026, 3, 2, 13, 0), false},
		{"daily window last day", lunches, d(2026, 3, 3, 12, 0), true},
		{"daily window other year", lunches, d(2027, 3, 2, 12, 30), false},
		{"whole day", Holiday{EveryYear: true, MonthStart: 7, DayStart: 4, MonthEnd: 7, DayEnd: 4}, d(2030, 7, 4, 23, 59), true},
	} {
		if got := tt.h.Contains(tt.at); got != tt.want {
			t.Errorf("%s: Contains(%v) = %v, want %v", tt.name, tt.at, got, tt.want)
		}
	}
}
