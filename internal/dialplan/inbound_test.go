package dialplan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopbx/gopbx/internal/pbx"
)

func fwd(n string) Forward { return Forward{Action: ForwardToNumber, Number: n} }

func TestInboundMatch(t *testing.T) {
	wed10 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	wed20 := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	xmas := []Holiday{{EveryYear: true, MonthStart: 12, DayStart: 25, MonthEnd: 12, DayEnd: 25}}
	dec25 := time.Date(2026, 12, 25, 10, 0, 0, 0, time.UTC)
	rule := func(id, provider pbx.ID, dids, mask string) InboundRule {
		return InboundRule{ID: id, ProviderID: provider, DIDNumbers: dids, CIDNumberMask: mask,
			OfficeHours: weekdays9to5(), OfficeHoursDest: fwd("100"), OutsideHoursDest: Forward{Action: ForwardToVoicemail, Number: "100"},
			HolidayDest: Forward{Action: Hangup}}
	}
	rules := []InboundRule{
		rule(1, 7, "5550100", ""),
		rule(2, 7, "5550101,5550102;5550103", ""),
		rule(3, 7, "5550200-5550299", ""),
		rule(4, 7, "5550250-5550259", ""),                // narrower range wins
		rule(5, 7, "5550100", "0044**********"),          // masked beats unmasked
		rule(6, 8, "5550100", ""),                        // same DID, other trunk
		rule(7, 7, "100-199", ""),                        // short range
		rule(8, 7, "5550300-5550399", "1212*******;555"), // masked range only
		{ID: 9, ProviderID: 7, DIDNumbers: "5550400", HolidayDest: fwd("hol")},
	}
	tab, err := NewInboundTable(rules)
	if err != nil {
		t.Fatalf("NewInboundTable: %v", err)
	}
	tests := []struct {
		name     string
		provider pbx.ID
		did, cid string
		at       time.Time
		holidays []Holiday
		wantRule pbx.ID // 0 means no match
		want     Forward
	}{
		{"single office hours", 7, "5550100", "2125551234", wed10, nil, 1, fwd("100")},
		{"single outside hours", 7, "5550100", "2125551234", wed20, nil, 1, Forward{Action: ForwardToVoicemail, Number: "100"}},
		{"tenant holiday", 7, "5550100", "2125551234", dec25, xmas, 1, Forward{Action: Hangup}},
		{"no holiday list", 7, "5550100", "2125551234", dec25, nil, 1, fwd("100")},
		{"cid mask wins", 7, "5550100", "00442079460000", wed10, nil, 5, fwd("100")},
		{"cid mask wrong length falls back", 7, "5550100", "0044207946000", wed10, nil, 1, fwd("100")},
		{"list item", 7, "5550103", "", wed10, nil, 2, fwd("100")},
		{"range", 7, "5550201", "", wed10, nil, 3, fwd("100")},
		{"narrower range", 7, "5550255", "", wed10, nil, 4, fwd("100")},
		{"range end inclusive", 7, "5550299", "", wed10, nil, 3, fwd("100")},
		{"range miss", 7, "5550500", "", wed10, nil, 0, Forward{}},
		{"other provider", 8, "5550100", "", wed10, nil, 6, fwd("100")},
		{"unknown provider", 9, "5550100", "", wed10, nil, 0, Forward{}},
		{"short range", 7, "150", "", wed10, nil, 7, fwd("100")},
		{"short range leading zero", 7, "0150", "", wed10, nil, 0, Forward{}},
		{"non digit did", 7, "15x", "", wed10, nil, 0, Forward{}},
		{"masked range match", 7, "5550333", "12125551234", wed10, nil, 8, fwd("100")},
		{"masked range literal", 7, "5550333", "555", wed10, nil, 8, fwd("100")},
		{"masked range miss", 7, "5550333", "13125551234", wed10, nil, 0, Forward{}},
		{"rule holiday always office", 7, "5550400", "", wed20, nil, 9, Forward{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tab.Match(tt.provider, tt.did, tt.cid, tt.at, time.UTC, tt.holidays)
			if ok != (tt.wantRule != 0) {
				t.Fatalf("Match ok = %v, want %v (got %+v)", ok, tt.wantRule != 0, got)
			}
			want := Destination{}
			if ok {
				want = Destination{RuleID: tt.wantRule, Forward: tt.want}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Match (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInboundRuleHolidays(t *testing.T) {
	tab, err := NewInboundTable([]InboundRule{{ID: 1, ProviderID: 1, DIDNumbers: "1",
		Holidays:        []Holiday{{Consecutive: true, YearStart: 2026, MonthStart: 12, DayStart: 24, HourStart: 12, YearEnd: 2026, MonthEnd: 12, DayEnd: 26}},
		OfficeHoursDest: fwd("office"), HolidayDest: fwd("holiday")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 12, 24, 11, 59, 0, 0, time.UTC), "office"},
		{time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC), "holiday"},
		{time.Date(2026, 12, 25, 23, 59, 0, 0, time.UTC), "holiday"},
		{time.Date(2026, 12, 26, 0, 0, 0, 0, time.UTC), "office"},
		{time.Date(2027, 12, 25, 0, 0, 0, 0, time.UTC), "office"},
	} {
		got, _ := tab.Match(1, "1", "", tt.at, nil, nil)
		if got.Number != tt.want {
			t.Errorf("Match at %v = %q, want %q", tt.at, got.Number, tt.want)
		}
	}
}

func TestNewInboundTableInvalid(t *testing.T) {
	for _, d := range []string{"", " ; ", "200-100", "1a-2", "1-", "12345678901234567890-12345678901234567891"} {
		_, err := NewInboundTable([]InboundRule{{ID: 1, DIDNumbers: d}})
		if got, want := pbx.ErrorCode(err), pbx.EINVALID; got != want {
			t.Errorf("NewInboundTable(did_numbers %q) code = %q, want %q", d, got, want)
		}
	}
}

func TestActionString(t *testing.T) {
	for _, a := range []Action{ForwardToNumber, ForwardToVoicemail, Hangup} {
		got, err := ParseAction(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAction(%q) = %v, %v; want %v", a, got, err, a)
		}
	}
	if _, err := ParseAction("RING"); err == nil {
		t.Error("ParseAction(RING) succeeded, want error")
	}
}
