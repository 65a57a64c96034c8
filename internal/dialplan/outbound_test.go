package dialplan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopbx/gopbx/internal/pbx"
)

// reverse is a deterministic stand-in for a random shuffle.
func reverse(n int, swap func(i, j int)) {
	for i := 0; i < n/2; i++ {
		swap(i, n-1-i)
	}
}

func mustOutbound(tb testing.TB, rules []OutboundRule) *OutboundTable {
	tb.Helper()
	t, err := NewOutboundTable(rules, reverse)
	if err != nil {
		tb.Fatalf("NewOutboundTable: %v", err)
	}
	return t
}

func route(p pbx.ID) []Route { return []Route{{ProviderID: p}} }

// weekdays9to5 is open Monday to Friday, 09:00–17:00.
func weekdays9to5() *OfficeHours {
	var o OfficeHours
	for d := time.Monday; d <= time.Friday; d++ {
		o[d] = Day{Enabled: true, Ranges: []TimeRange{{9 * 60, 17 * 60}}}
	}
	return &o
}

func TestOutboundMatch(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	// Wednesday 2026-11-25 15:00 UTC is 10:00 in New York.
	wed10NY := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	// 23:00 UTC Wednesday is 18:00 in New York: after hours.
	wed18NY := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)

	tests := []struct {
		name   string
		rules  []OutboundRule
		number string
		groups []pbx.ID
		at     time.Time
		want   []pbx.ID // providers in order; nil means no match
	}{
		{"catch all", []OutboundRule{{ID: 1, Routes: route(10)}}, "5551234", nil, wed10NY, []pbx.ID{10}},
		{"no rules", nil, "5551234", nil, wed10NY, nil},
		{"prefix match", []OutboundRule{{ID: 1, NumberPrefix: "00;011", Routes: route(10)}}, "01144", nil, wed10NY, []pbx.ID{10}},
		{"prefix miss", []OutboundRule{{ID: 1, NumberPrefix: "00;011", Routes: route(10)}}, "0144", nil, wed10NY, nil},
		{"longer prefix same priority earlier rule wins", []OutboundRule{
			{ID: 1, Priority: 5, NumberPrefix: "1", Routes: route(10)},
			{ID: 2, Priority: 5, NumberPrefix: "12", Routes: route(20)},
		}, "1234", nil, wed10NY, []pbx.ID{10}},
		{"priority beats prefix length", []OutboundRule{
			{ID: 1, Priority: 10, NumberPrefix: "12", Routes: route(10)},
			{ID: 2, Priority: 1, NumberPrefix: "1", Routes: route(20)},
		}, "1234", nil, wed10NY, []pbx.ID{20}},
		{"priority lower number wins", []OutboundRule{
			{ID: 1, Priority: 1000, Routes: route(10)},
			{ID: 2, Priority: 1, Routes: route(20)},
		}, "1234", nil, wed10NY, []pbx.ID{20}},
		{"better rule fails condition falls to next", []OutboundRule{
			{ID: 1, Priority: 1, NumberLength: "4", Routes: route(10)},
			{ID: 2, Priority: 2, Routes: route(20)},
		}, "12345", nil, wed10NY, []pbx.ID{20}},
		{"length list", []OutboundRule{{ID: 1, NumberLength: "8;10;12", Routes: route(10)}}, "5551234567", nil, wed10NY, []pbx.ID{10}},
		{"length miss", []OutboundRule{{ID: 1, NumberLength: "8;10;12", Routes: route(10)}}, "555123456", nil, wed10NY, nil},
		{"length range", []OutboundRule{{ID: 1, NumberLength: "7-11", Routes: route(10)}}, "555123456", nil, wed10NY, []pbx.ID{10}},
		{"length ignores plus", []OutboundRule{{ID: 1, NumberLength: "3", Routes: route(10)}}, "+123", nil, wed10NY, []pbx.ID{10}},
		{"mask star", []OutboundRule{{ID: 1, NumberMask: "1***555****", Routes: route(10)}}, "12125551234", nil, wed10NY, []pbx.ID{10}},
		{"mask x", []OutboundRule{{ID: 1, NumberMask: "1XXX555xxxx", Routes: route(10)}}, "12125551234", nil, wed10NY, []pbx.ID{10}},
		{"mask literal miss", []OutboundRule{{ID: 1, NumberMask: "1***555****", Routes: route(10)}}, "12124441234", nil, wed10NY, nil},
		{"mask length miss", []OutboundRule{{ID: 1, NumberMask: "1***", Routes: route(10)}}, "12125", nil, wed10NY, nil},
		{"mask list", []OutboundRule{{ID: 1, NumberMask: "9**;8**", Routes: route(10)}}, "812", nil, wed10NY, []pbx.ID{10}},
		{"group match", []OutboundRule{{ID: 1, Groups: []pbx.ID{7, 8}, Routes: route(10)}}, "1", []pbx.ID{3, 8}, wed10NY, []pbx.ID{10}},
		{"group miss", []OutboundRule{{ID: 1, Groups: []pbx.ID{7, 8}, Routes: route(10)}}, "1", []pbx.ID{3}, wed10NY, nil},
		{"group miss no groups", []OutboundRule{{ID: 1, Groups: []pbx.ID{7}, Routes: route(10)}}, "1", nil, wed10NY, nil},
		{"office hours open in tenant zone", []OutboundRule{{ID: 1, OfficeHours: weekdays9to5(), Routes: route(10)}}, "1", nil, wed10NY, []pbx.ID{10}},
		{"office hours closed in tenant zone", []OutboundRule{{ID: 1, OfficeHours: weekdays9to5(), Routes: route(10)}}, "1", nil, wed18NY, nil},
		{"after hours falls to night rule", []OutboundRule{
			{ID: 1, Priority: 1, OfficeHours: weekdays9to5(), Routes: route(10)},
			{ID: 2, Priority: 2, Routes: route(20)},
		}, "1", nil, wed18NY, []pbx.ID{20}},
		{"holiday excludes rule", []OutboundRule{
			{ID: 1, Priority: 1, Holidays: []Holiday{{EveryYear: true, MonthStart: 11, DayStart: 25, MonthEnd: 11, DayEnd: 25}}, Routes: route(10)},
			{ID: 2, Priority: 2, Routes: route(20)},
		}, "1", nil, wed10NY, []pbx.ID{20}},
		{"prioritized keeps order", []OutboundRule{{ID: 1, Routes: []Route{{ProviderID: 1}, {ProviderID: 2}, {ProviderID: 3}}}}, "1", nil, wed10NY, []pbx.ID{1, 2, 3}},
		{"randomly uses shuffle", []OutboundRule{{ID: 1, Strategy: Randomly, Routes: []Route{{ProviderID: 1}, {ProviderID: 2}, {ProviderID: 3}}}}, "1", nil, wed10NY, []pbx.ID{3, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustOutbound(t, tt.rules)
			var got []pbx.ID
			for _, c := range tab.Match(tt.number, tt.groups, tt.at, ny) {
				got = append(got, c.ProviderID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Match(%q) providers (-want +got):\n%s", tt.number, diff)
			}
		})
	}
}

func TestOutboundStripPrepend(t *testing.T) {
	tab := mustOutbound(t, []OutboundRule{{ID: 9, NumberPrefix: "9", Routes: []Route{
		{ProviderID: 1, StripDigits: 1, Prepend: "+1", OutboundCallerID: "15550001"},
		{ProviderID: 2},
		{ProviderID: 3, StripDigits: 50, Prepend: "x"},
		{ProviderID: 4, StripDigits: -1},
	}}})
	got := tab.Match("92125551234", nil, time.Now(), nil)
	want := []Candidate{
		{RuleID: 9, ProviderID: 1, Number: "+12125551234", OutboundCallerID: "15550001"},
		{RuleID: 9, ProviderID: 2, Number: "92125551234"},
		{RuleID: 9, ProviderID: 3, Number: "x"},
		{RuleID: 9, ProviderID: 4, Number: "92125551234"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Match (-want +got):\n%s", diff)
	}
}

func TestNewOutboundTableInvalid(t *testing.T) {
	for _, l := range []string{"ten", "5-3", "-1", "3-x"} {
		_, err := NewOutboundTable([]OutboundRule{{ID: 1, NumberLength: l}}, nil)
		if got, want := pbx.ErrorCode(err), pbx.EINVALID; got != want {
			t.Errorf("NewOutboundTable(number_length %q) code = %q, want %q", l, got, want)
		}
	}
}

func TestStrategyString(t *testing.T) {
	for _, s := range []Strategy{Prioritized, Randomly} {
		got, err := ParseStrategy(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v; want %v", s, got, err, s)
		}
	}
	if _, err := ParseStrategy("ROUND_ROBIN"); err == nil {
		t.Error("ParseStrategy(ROUND_ROBIN) succeeded, want error")
	}
}
