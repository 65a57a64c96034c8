package dialplan

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Strategy is an outbound rule's routing_strategy.
type Strategy int

const (
	// Prioritized tries the routes in the configured order.
	Prioritized Strategy = iota
	// Randomly tries the routes in a random order.
	Randomly
)

// String returns PortSIP's enum spelling.
func (s Strategy) String() string {
	switch s {
	case Prioritized:
		return "PRIORITIZED"
	case Randomly:
		return "RANDOMLY"
	}
	return "Strategy(" + strconv.Itoa(int(s)) + ")"
}

// ParseStrategy parses PortSIP's enum spelling; empty means PRIORITIZED, the
// API default.
func ParseStrategy(s string) (Strategy, error) {
	switch s {
	case "", "PRIORITIZED":
		return Prioritized, nil
	case "RANDOMLY":
		return Randomly, nil
	}
	return 0, pbx.FieldErrorf("routing_strategy", "unknown routing strategy %q", s)
}

// Route is one entry of an outbound rule's routes[]. Callers pass only
// enabled routes.
type Route struct {
	ProviderID pbx.ID
	// StripDigits is how many leading characters to remove from the number.
	StripDigits int
	// Prepend is put in front of the number after stripping.
	Prepend string
	// OutboundCallerID is the caller ID to present on this trunk, if set.
	OutboundCallerID string
}

// OutboundRule mirrors POST /outbound_rules. Callers pass only enabled rules.
// Each condition that is set must hold for the rule to apply; an empty
// condition holds for every call.
type OutboundRule struct {
	ID pbx.ID
	// Priority orders rules; a lower number wins. PortSIP's default is 1000.
	Priority int
	// NumberPrefix is "Calls to numbers starting with prefix", a list such as
	// "00;123;88".
	NumberPrefix string
	// NumberLength is "Calls to numbers with certain digits", a list of
	// lengths such as "8;10;12". We also accept ranges ("7-11").
	NumberLength string
	// NumberMask is a list of masks; see matchMask for the wildcard rules.
	NumberMask string
	// Groups are the applied user groups (/outbound_rules/{id}/applied_groups).
	// Empty applies the rule to every caller.
	Groups []pbx.ID
	// OfficeHours restricts the rule to office hours; nil means always.
	OfficeHours *OfficeHours
	// Holidays are periods in which the rule does not apply.
	Holidays []Holiday
	Strategy Strategy
	Routes   []Route
}

// Candidate is one trunk to try for an outbound call.
type Candidate struct {
	RuleID     pbx.ID
	ProviderID pbx.ID
	// Number is the number to send on this trunk, stripped and prepended.
	Number           string
	OutboundCallerID string
}

type lengthRange struct{ lo, hi int }

type compiledRule struct {
	rule    OutboundRule
	order   int // position in the input, for a stable tie-break
	lengths []lengthRange
	masks   []string
}

// trieNode indexes rules by number prefix. rules holds indexes into
// OutboundTable.rules, sorted best first.
type trieNode struct {
	children map[byte]*trieNode
	rules    []int32
}

// OutboundTable selects trunks for outbound calls. Build it once per
// configuration with NewOutboundTable; it is immutable and safe for
// concurrent use.
type OutboundTable struct {
	rules   []compiledRule
	root    trieNode
	shuffle func(n int, swap func(i, j int))
}

// NewOutboundTable compiles rules into a table indexed by number prefix.
// shuffle orders the routes of RANDOMLY rules; nil uses math/rand/v2's
// goroutine-safe global source. Tests pass a deterministic one. It returns an
// EINVALID error naming the field when a rule's number_length is malformed.
func NewOutboundTable(rules []OutboundRule, shuffle func(n int, swap func(i, j int))) (*OutboundTable, error) {
	if shuffle == nil {
		shuffle = rand.Shuffle
	}
	t := &OutboundTable{rules: make([]compiledRule, len(rules)), shuffle: shuffle}
	for i, r := range rules {
		lengths, err := parseLengths(r.NumberLength)
		if err != nil {
			return nil, err
		}
		t.rules[i] = compiledRule{rule: r, order: i, lengths: lengths, masks: splitList(r.NumberMask)}
	}
	for i, r := range rules {
		prefixes := splitList(r.NumberPrefix)
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, p := range prefixes {
			n := &t.root
			for j := 0; j < len(p); j++ {
				if n.children == nil {
					n.children = make(map[byte]*trieNode)
				}
				c := n.children[p[j]]
				if c == nil {
					c = &trieNode{}
					n.children[p[j]] = c
				}
				n = c
			}
			if k := len(n.rules); k == 0 || n.rules[k-1] != int32(i) { // "1;1" lists a prefix twice
				n.rules = append(n.rules, int32(i))
			}
		}
	}
	t.sortNodes(&t.root)
	return t, nil
}

func (t *OutboundTable) sortNodes(n *trieNode) {
	slices.SortFunc(n.rules, func(a, b int32) int {
		ra, rb := &t.rules[a], &t.rules[b]
		return cmp.Or(cmp.Compare(ra.rule.Priority, rb.rule.Priority), cmp.Compare(ra.order, rb.order))
	})
	for _, c := range n.children {
		t.sortNodes(c)
	}
}

func parseLengths(s string) ([]lengthRange, error) {
	var out []lengthRange
	for _, item := range splitList(s) {
		lo, hi, isRange := strings.Cut(item, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(strings.TrimSpace(hi))
		}
		if err1 != nil || err2 != nil || a < 0 || b < a {
			return nil, pbx.FieldErrorf("number_length", "invalid number length %q", item)
		}
		out = append(out, lengthRange{a, b})
	}
	return out, nil
}

// Match returns the routes to try for number, best first, or nil when no rule
// applies. number is the dialled number after Normalize.
//
// As PortSIP documents, when several rules match, the one with the lowest
// priority number is applied; PortSIP leaves ties open, and we break them by
// the order of the rules given to NewOutboundTable. Only that rule's routes
// are returned: PortSIP does not fall through to a lower-priority rule when
// every trunk of the chosen rule fails.
//
// A rule matches when the number starts with one of its prefixes, has one of
// its lengths (counted without a leading '+'), matches one of its masks, the
// caller is in one of its groups, and at, in tz (nil means at's own
// location), is within its office hours and not in one of its holidays.
// Each candidate's Number has the route's StripDigits leading characters
// removed (all of them if the number is shorter) and Prepend added.
func (t *OutboundTable) Match(number string, callerGroups []pbx.ID, at time.Time, tz *time.Location) []Candidate {
	local := localTime(at, tz)
	best := -1
	n := &t.root
	for depth := 0; ; depth++ {
		for _, ri := range n.rules {
			// Each node's list is sorted best first, so only the first
			// match in a node can beat the best found so far.
			if best >= 0 && !t.better(int(ri), best) {
				break
			}
			if t.rules[ri].matches(number, callerGroups, local) {
				best = int(ri)
				break
			}
		}
		if depth == len(number) || n.children == nil {
			break
		}
		if n = n.children[number[depth]]; n == nil {
			break
		}
	}
	if best < 0 {
		return nil
	}
	r := &t.rules[best].rule
	out := make([]Candidate, len(r.Routes))
	for i, rt := range r.Routes {
		out[i] = Candidate{
			RuleID:           r.ID,
			ProviderID:       rt.ProviderID,
			Number:           rt.Prepend + number[min(max(rt.StripDigits, 0), len(number)):],
			OutboundCallerID: rt.OutboundCallerID,
		}
	}
	if r.Strategy == Randomly && len(out) > 1 {
		t.shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// better reports whether rule a ranks before rule b.
func (t *OutboundTable) better(a, b int) bool {
	ra, rb := &t.rules[a], &t.rules[b]
	if ra.rule.Priority != rb.rule.Priority {
		return ra.rule.Priority < rb.rule.Priority
	}
	return ra.order < rb.order
}

func (c *compiledRule) matches(number string, groups []pbx.ID, local time.Time) bool {
	if len(c.lengths) > 0 {
		l := len(strings.TrimPrefix(number, "+"))
		ok := false
		for _, lr := range c.lengths {
			if l >= lr.lo && l <= lr.hi {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if !matchAnyMask(c.masks, number) {
		return false
	}
	if len(c.rule.Groups) > 0 && !intersects(c.rule.Groups, groups) {
		return false
	}
	if !c.rule.OfficeHours.Open(local) {
		return false
	}
	return !inHolidays(local, c.rule.Holidays)
}

func intersects(a, b []pbx.ID) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
