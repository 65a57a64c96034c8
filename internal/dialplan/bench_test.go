package dialplan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// reportLatency times each call of f and reports the 50th and 99th
// percentile in nanoseconds beside the usual ns/op and allocs/op.
func reportLatency(b *testing.B, f func(i int)) {
	b.Helper()
	durs := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		f(i)
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)*50/100]), "p50-ns")
	b.ReportMetric(float64(durs[len(durs)*99/100]), "p99-ns")
}

// outboundBenchRules returns n rules with random 1–6 digit prefixes, a mix of
// length, group and office-hours conditions, and 1–3 routes each.
func outboundBenchRules(n int, rng *rand.Rand) []OutboundRule {
	rules := make([]OutboundRule, n)
	for i := range rules {
		r := OutboundRule{ID: pbx.ID(i + 1), Priority: rng.IntN(2000)}
		r.NumberPrefix = fmt.Sprintf("%06d", rng.IntN(1_000_000))[:1+rng.IntN(6)]
		switch i % 5 {
		case 1:
			r.NumberLength = "10;11;12"
		case 2:
			r.Groups = []pbx.ID{pbx.ID(rng.IntN(50)), pbx.ID(rng.IntN(50))}
		case 3:
			r.OfficeHours = weekdays9to5()
		case 4:
			r.Strategy = Randomly
		}
		for k := 0; k <= rng.IntN(3); k++ {
			r.Routes = append(r.Routes, Route{ProviderID: pbx.ID(rng.IntN(100)), StripDigits: rng.IntN(2), Prepend: "+"})
		}
		rules[i] = r
	}
	return rules
}

func BenchmarkOutboundMatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	tab, err := NewOutboundTable(outboundBenchRules(10_000, rng), nil)
	if err != nil {
		b.Fatal(err)
	}
	numbers := make([]string, 4096)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("%011d", rng.Int64N(1e11))
	}
	groups := []pbx.ID{3, 17}
	tz := time.UTC
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	matched := 0
	reportLatency(b, func(i int) {
		if len(tab.Match(numbers[i%len(numbers)], groups, at, tz)) > 0 {
			matched++
		}
	})
	if matched == 0 {
		b.Fatal("no number matched a rule")
	}
}

func BenchmarkInboundMatch(b *testing.B) {
	// 100,000 DIDs over 10 trunks: 50,000 as singles and lists of 5, and
	// 50,000 in 500 ranges of 100.
	var rules []InboundRule
	id := pbx.ID(1)
	for i := 0; i < 50_000; i += 5 {
		dids := ""
		for k := 0; k < 5; k++ {
			dids += fmt.Sprintf("1555%07d,", i+k)
		}
		rules = append(rules, InboundRule{ID: id, ProviderID: id % 10, DIDNumbers: dids, OfficeHours: weekdays9to5(),
			OfficeHoursDest: fwd("100"), OutsideHoursDest: fwd("200")})
		id++
	}
	for i := 0; i < 500; i++ {
		lo := 16660000000 + i*100
		rules = append(rules, InboundRule{ID: id, ProviderID: id % 10, DIDNumbers: fmt.Sprintf("%d-%d", lo, lo+99),
			CIDNumberMask: "1**********", OfficeHoursDest: fwd("300")})
		id++
	}
	tab, err := NewInboundTable(rules)
	if err != nil {
		b.Fatal(err)
	}
	type call struct {
		provider pbx.ID
		did      string
	}
	rng := rand.New(rand.NewPCG(3, 4))
	calls := make([]call, 4096)
	for i := range calls {
		r := rules[rng.IntN(len(rules))]
		calls[i] = call{r.ProviderID, fmt.Sprintf("1555%07d", rng.IntN(50_000))}
		if i%2 == 0 {
			calls[i].did = fmt.Sprintf("%d", 16660000000+rng.IntN(50_000))
		}
	}
	holidays := []Holiday{{EveryYear: true, MonthStart: 12, DayStart: 25, MonthEnd: 12, DayEnd: 25}}
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	reportLatency(b, func(i int) {
		c := calls[i%len(calls)]
		tab.Match(c.provider, c.did, "12125551234", at, time.UTC, holidays)
	})
}

func BenchmarkNormalize(b *testing.B) {
	cfg := E164Config{Enabled: true, InternationalCode: "011", Country: "1", AreaCode: "813", NationalCode: "1",
		RemoveSpecialChars: true, RemoveDuplicateCountries: true, RemoveDuplicateAreaCodes: true}
	reportLatency(b, func(int) { Normalize(cfg, "+1 (212) 555-1234") })
}
