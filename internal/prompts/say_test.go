package prompts

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York on machines without zoneinfo

	"github.com/google/go-cmp/cmp"
)

func split(s string) []string { return strings.Fields(s) }

func TestNumber(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "0"},
		{7, "7"},
		{13, "13"},
		{20, "20"},
		{21, "20 1"},
		{99, "90 9"},
		{100, "1 hundred"},
		{105, "1 hundred 5"},
		{110, "1 hundred 10"},
		{999, "9 hundred 90 9"},
		{1000, "1 thousand"},
		{1001, "1 thousand 1"},
		{1234, "1 thousand 2 hundred 30 4"},
		{2026, "2 thousand 20 6"},
		{12345, "12 thousand 3 hundred 40 5"},
		{100000, "1 hundred thousand"},
		{1000000, "1 million"},
		{2500017, "2 million 5 hundred thousand 17"},
		{5000000000, "5 thousand million"},
		{-5, "minus 5"},
		{-1200, "minus 1 thousand 2 hundred"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(split(tt.want), Number(tt.n)); diff != "" {
			t.Errorf("Number(%d) (-want +got):\n%s", tt.n, diff)
		}
	}
	// The extremes must not overflow.
	if got := Number(math.MinInt); got[0] != "minus" || len(got) < 10 {
		t.Errorf("Number(math.MinInt) = %v", got)
	}
}

func TestDigits(t *testing.T) {
	tests := []struct{ s, want string }{
		{"", ""},
		{"101", "1 0 1"},
		{"*72#", "star 7 2 pound"},
		{"+1 (555) 010-9", "1 5 5 5 0 1 0 9"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(split(tt.want), Digits(tt.s)); diff != "" {
			t.Errorf("Digits(%q) (-want +got):\n%s", tt.s, diff)
		}
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "no vm/new-messages"},
		{1, "1 vm/new-message"},
		{2, "2 vm/new-messages"},
		{21, "20 1 vm/new-messages"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(split(tt.want), Count(tt.n, "vm/new-message", "vm/new-messages")); diff != "" {
			t.Errorf("Count(%d) (-want +got):\n%s", tt.n, diff)
		}
	}
}

func TestTimeOfDay(t *testing.T) {
	tests := []struct {
		h, m int
		want string
	}{
		{0, 0, "12 oclock am"},
		{0, 30, "12 30 am"},
		{9, 0, "9 oclock am"},
		{9, 5, "9 oh 5 am"},
		{11, 59, "11 50 9 am"},
		{12, 0, "12 oclock pm"},
		{12, 15, "12 15 pm"},
		{13, 10, "1 10 pm"},
		{23, 45, "11 40 5 pm"},
	}
	for _, tt := range tests {
		tm := time.Date(2026, 3, 4, tt.h, tt.m, 0, 0, time.UTC)
		if diff := cmp.Diff(split(tt.want), TimeOfDay(tm)); diff != "" {
			t.Errorf("TimeOfDay(%02d:%02d) (-want +got):\n%s", tt.h, tt.m, diff)
		}
	}
}

func TestTimeOfDay24(t *testing.T) {
	tests := []struct {
		h, m int
		want string
	}{
		{0, 0, "0 0 hundred"},
		{0, 30, "0 0 30"},
		{9, 5, "oh 9 oh 5"},
		{12, 0, "12 hundred"},
		{14, 30, "14 30"},
		{23, 45, "20 3 40 5"},
	}
	for _, tt := range tests {
		tm := time.Date(2026, 3, 4, tt.h, tt.m, 0, 0, time.UTC)
		if diff := cmp.Diff(split(tt.want), TimeOfDay24(tm)); diff != "" {
			t.Errorf("TimeOfDay24(%02d:%02d) (-want +got):\n%s", tt.h, tt.m, diff)
		}
	}
	now := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	if got, want := DateTime(time.Date(2026, 3, 4, 9, 5, 0, 0, time.UTC), now, true), split("today at oh 9 oh 5"); !cmp.Equal(got, want) {
		t.Errorf("DateTime 24-hour = %v; want %v", got, want)
	}
}

func TestDateTime(t *testing.T) {
	// Wednesday 4 March 2026, 15:00 in New York.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 15, 0, 0, 0, ny)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 3, 4, 9, 5, 0, 0, ny), "today at 9 oh 5 am"},
		{time.Date(2026, 3, 4, 0, 0, 0, 0, ny), "today at 12 oclock am"},
		{time.Date(2026, 3, 3, 23, 59, 0, 0, ny), "yesterday at 11 50 9 pm"},
		{time.Date(2026, 3, 2, 14, 30, 0, 0, ny), "on monday at 2 30 pm"},
		{time.Date(2026, 2, 26, 8, 0, 0, 0, ny), "on thursday at 8 oclock am"},
		{time.Date(2026, 2, 25, 8, 0, 0, 0, ny), "on february 25th at 8 oclock am"},
		{time.Date(2026, 1, 1, 10, 0, 0, 0, ny), "on january 1st at 10 oclock am"},
		{time.Date(2025, 12, 22, 10, 0, 0, 0, ny), "on december 22nd 2 thousand 20 5 at 10 oclock am"},
		{time.Date(2026, 3, 5, 10, 0, 0, 0, ny), "on march 5th at 10 oclock am"},
		// 01:30 UTC on the 5th is 20:30 on the 4th in New York.
		{time.Date(2026, 3, 5, 1, 30, 0, 0, time.UTC), "today at 8 30 pm"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(split(tt.want), DateTime(tt.t, now, false)); diff != "" {
			t.Errorf("DateTime(%v) (-want +got):\n%s", tt.t, diff)
		}
	}
	// Across the spring-forward night (8 March 2026), yesterday is still
	// yesterday although that day had 23 hours.
	now = time.Date(2026, 3, 9, 0, 30, 0, 0, ny)
	if got, want := DateTime(time.Date(2026, 3, 8, 0, 10, 0, 0, ny), now, false), split("yesterday at 12 10 am"); !cmp.Equal(got, want) {
		t.Errorf("DateTime across DST = %v; want %v", got, want)
	}
}

// TestBuildersUseEmbeddedPrompts checks that every name the builders can
// return is an embedded prompt.
func TestBuildersUseEmbeddedPrompts(t *testing.T) {
	names := Names()
	check := func(what string, got []string) {
		t.Helper()
		for _, n := range got {
			if _, ok := slices.BinarySearch(names, n); !ok {
				t.Errorf("%s returns %q, which is not an embedded prompt", what, n)
			}
		}
	}
	for n := -1000; n <= 100000; n += 7 {
		check("Number", Number(n))
	}
	check("Number", Number(math.MaxInt))
	check("Number", Number(math.MinInt))
	check("Digits", Digits("0123456789*#"))
	check("Count", Count(0, "vm/new-message", "vm/new-messages"))
	check("Count", Count(2, "vm/saved-message", "vm/saved-messages"))
	now := time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)
	for tm := now.AddDate(-1, 0, 0); tm.Before(now); tm = tm.Add(97 * time.Minute) {
		check("DateTime", DateTime(tm, now, false))
		check("DateTime 24-hour", DateTime(tm, now, true))
	}
	for _, n := range []string{"received", "from", "message", "messages", "beep", "moh/default", "goodbye"} {
		check("names", []string{n})
	}
}
