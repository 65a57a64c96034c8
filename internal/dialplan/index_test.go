package dialplan

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// linearOutbound is the reference the trie must agree with: scan every rule
// and keep the lowest priority, then the earliest.
func linearOutbound(rules []OutboundRule, number string, groups []pbx.ID, at time.Time) pbx.ID {
	best := -1
	for i, r := range rules {
		c := compiledRule{rule: r, masks: splitList(r.NumberMask)}
		c.lengths, _ = parseLengths(r.NumberLength)
		prefixes := splitList(r.NumberPrefix)
		ok := len(prefixes) == 0
		for _, p := range prefixes {
			ok = ok || strings.HasPrefix(number, p)
		}
		if ok && c.matches(number, groups, at) && (best < 0 || r.Priority < rules[best].Priority) {
			best = i
		}
	}
	if best < 0 {
		return 0
	}
	return rules[best].ID
}

func TestOutboundIndexMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	rules := make([]OutboundRule, 2000)
	for i := range rules {
		r := OutboundRule{ID: pbx.ID(i + 1), Priority: rng.IntN(50), Routes: route(1)}
		for k := rng.IntN(3); k > 0; k-- {
			r.NumberPrefix += fmt.Sprintf("%04d", rng.IntN(10_000))[:1+rng.IntN(4)] + ";"
		}
		if rng.IntN(3) == 0 {
			r.NumberLength = fmt.Sprintf("%d-%d", 4+rng.IntN(3), 6+rng.IntN(3))
		}
		if rng.IntN(4) == 0 {
			r.Groups = []pbx.ID{pbx.ID(rng.IntN(4))}
		}
		if rng.IntN(8) == 0 {
			r.NumberMask = fmt.Sprintf("%d*****", rng.IntN(10))
		}
		rules[i] = r
	}
	tab := mustOutbound(t, rules)
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 2000; i++ {
		number := fmt.Sprintf("%08d", rng.IntN(100_000_000))[:4+rng.IntN(5)]
		groups := []pbx.ID{pbx.ID(rng.IntN(4))}
		var got pbx.ID
		if c := tab.Match(number, groups, at, nil); len(c) > 0 {
			got = c[0].RuleID
		}
		if want := linearOutbound(rules, number, groups, at); got != want {
			t.Fatalf("Match(%q, %v) rule = %v, want %v", number, groups, got, want)
		}
	}
}

// TestConcurrentMatch runs lookups from many goroutines; run it with -race.
func TestConcurrentMatch(t *testing.T) {
	out, err := NewOutboundTable([]OutboundRule{{ID: 1, Strategy: Randomly, Routes: []Route{{ProviderID: 1}, {ProviderID: 2}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInboundTable([]InboundRule{{ID: 1, ProviderID: 1, DIDNumbers: "100-199", OfficeHoursDest: fwd("1")}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				if c := out.Match("123", nil, time.Now(), nil); len(c) != 2 {
					t.Errorf("outbound Match returned %d candidates, want 2", len(c))
				}
				if _, ok := in.Match(1, "150", "", time.Now(), nil, nil); !ok {
					t.Error("inbound Match found no rule for 150")
				}
			}
		})
	}
	wg.Wait()
}

// linearInbound is the reference the DID index must agree with.
func linearInbound(rules []InboundRule, provider pbx.ID, did, cid string) pbx.ID {
	type cand struct {
		exact, masked bool
		width         uint64
		i             int
	}
	var best *cand
	x, xerr := parseDigits(did)
	for i, r := range rules {
		if r.ProviderID != provider {
			continue
		}
		masks := splitList(r.CIDNumberMask)
		if len(masks) > 0 && !matchAnyMask(masks, cid) {
			continue
		}
		for _, item := range splitList(r.DIDNumbers) {
			var c cand
			lo, hi, isRange := strings.Cut(item, "-")
			switch {
			case !isRange && item == did:
				c = cand{exact: true}
			case isRange && xerr == nil:
				a, _ := parseDigits(lo)
				b, _ := parseDigits(hi)
				if x < a || x > b || len(did) < len(lo) || len(did) > len(hi) {
					continue
				}
				c = cand{width: b - a}
			default:
				continue
			}
			c.masked, c.i = len(masks) > 0, i
			if best == nil || c.exact && !best.exact ||
				c.exact == best.exact && (c.masked && !best.masked ||
					c.masked == best.masked && (c.width < best.width || c.width == best.width && c.i < best.i)) {
				best = &c
			}
		}
	}
	if best == nil {
		return 0
	}
	return rules[best.i].ID
}

func TestInboundIndexMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	rules := make([]InboundRule, 300)
	for i := range rules {
		r := InboundRule{ID: pbx.ID(i + 1), ProviderID: pbx.ID(rng.IntN(2))}
		if rng.IntN(2) == 0 {
			lo := rng.IntN(1000)
			r.DIDNumbers = fmt.Sprintf("%d-%d", lo, lo+rng.IntN(200))
		} else {
			r.DIDNumbers = fmt.Sprintf("%d,%d", rng.IntN(1200), rng.IntN(1200))
		}
		if rng.IntN(4) == 0 {
			r.CIDNumberMask = fmt.Sprintf("%d*", rng.IntN(10))
		}
		rules[i] = r
	}
	tab, err := NewInboundTable(rules)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5000; i++ {
		p, did, cid := pbx.ID(rng.IntN(2)), fmt.Sprint(rng.IntN(1300)), fmt.Sprint(10+rng.IntN(90))
		d, _ := tab.Match(p, did, cid, time.Time{}, nil, nil)
		if want := linearInbound(rules, p, did, cid); d.RuleID != want {
			t.Fatalf("Match(%v, %q, %q) rule = %v, want %v", p, did, cid, d.RuleID, want)
		}
	}
}
