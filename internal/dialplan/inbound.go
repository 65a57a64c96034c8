package dialplan

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Action is what an inbound forward rule does with the call.
type Action int

const (
	// ForwardToNumber sends the call to Destination.Number (an extension,
	// ring group, queue, IVR or external number).
	ForwardToNumber Action = iota
	// ForwardToVoicemail sends the call to the voicemail of Destination.Number.
	ForwardToVoicemail
	// Hangup rejects the call.
	Hangup
)

// String returns PortSIP's enum spelling.
func (a Action) String() string {
	switch a {
	case ForwardToNumber:
		return "FORWARD_TO_NUMBER"
	case ForwardToVoicemail:
		return "FORWARD_TO_VOICEMAIL"
	case Hangup:
		return "HANGUP"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// ParseAction parses PortSIP's enum spelling.
func ParseAction(s string) (Action, error) {
	switch s {
	case "FORWARD_TO_NUMBER":
		return ForwardToNumber, nil
	case "FORWARD_TO_VOICEMAIL":
		return ForwardToVoicemail, nil
	case "HANGUP":
		return Hangup, nil
	}
	return 0, pbx.FieldErrorf("action", "unknown forward action %q", s)
}

// Forward is one of an inbound rule's *_forward_rule objects.
type Forward struct {
	Action Action
	Number string
}

// Destination is where an inbound call goes.
type Destination struct {
	RuleID pbx.ID
	Forward
}

// InboundRule mirrors POST /inbound_rules. Callers pass only enabled rules.
type InboundRule struct {
	ID         pbx.ID
	ProviderID pbx.ID
	// DIDNumbers is a single DID ("123"), a list ("1,2,3" or "1;2;3"), a
	// range ("100-199") or a list mixing both.
	DIDNumbers string
	// CIDNumberMask restricts the rule to callers whose number matches; '*'
	// matches any one digit ("0044**********"). Empty matches every caller.
	CIDNumberMask string
	// OfficeHours decides between OfficeHoursDest and OutsideHoursDest; nil
	// means always office hours.
	OfficeHours      *OfficeHours
	Holidays         []Holiday
	OfficeHoursDest  Forward // office_hours_forward_rule
	OutsideHoursDest Forward // non_office_hours_forward_rule
	HolidayDest      Forward // holiday_forward_rule
}

type didKey struct {
	provider pbx.ID
	did      string
}

type didRange struct {
	lo, hi       uint64
	loLen, hiLen int
	rule         int32
}

type compiledInbound struct {
	rule  InboundRule
	masks []string
}

// InboundTable selects the destination of calls arriving from trunks. Build
// it once per configuration with NewInboundTable; it is immutable and safe
// for concurrent use.
type InboundTable struct {
	rules  []compiledInbound
	exact  map[didKey][]int32
	ranges map[pbx.ID]rangeIndex
}

// rangeIndex holds a provider's DID ranges sorted by lo, with maxHi[i] the
// largest hi among ranges[0..i], so a lookup can stop scanning backwards as
// soon as no earlier range can reach the number.
type rangeIndex struct {
	ranges []didRange
	maxHi  []uint64
}

// NewInboundTable compiles rules into a table indexed by provider and DID:
// a hash map for single and listed DIDs and sorted intervals for ranges.
// It returns an EINVALID error naming did_numbers when a rule has no DID or a
// range is not two numbers of at most 19 digits with lo <= hi.
func NewInboundTable(rules []InboundRule) (*InboundTable, error) {
	t := &InboundTable{
		rules:  make([]compiledInbound, len(rules)),
		exact:  make(map[didKey][]int32),
		ranges: make(map[pbx.ID]rangeIndex),
	}
	byProvider := make(map[pbx.ID][]didRange)
	for i, r := range rules {
		t.rules[i] = compiledInbound{rule: r, masks: splitList(r.CIDNumberMask)}
		items := splitList(r.DIDNumbers)
		if len(items) == 0 {
			return nil, pbx.FieldErrorf("did_numbers", "inbound rule %s has no DID", r.ID)
		}
		for _, item := range items {
			lo, hi, isRange := strings.Cut(item, "-")
			if !isRange {
				k := didKey{r.ProviderID, item}
				t.exact[k] = append(t.exact[k], int32(i))
				continue
			}
			lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
			a, err1 := parseDigits(lo)
			b, err2 := parseDigits(hi)
			if err1 != nil || err2 != nil || a > b {
				return nil, pbx.FieldErrorf("did_numbers", "invalid DID range %q", item)
			}
			byProvider[r.ProviderID] = append(byProvider[r.ProviderID], didRange{a, b, len(lo), len(hi), int32(i)})
		}
	}
	for p, rs := range byProvider {
		slices.SortStableFunc(rs, func(x, y didRange) int {
			switch {
			case x.lo < y.lo:
				return -1
			case x.lo > y.lo:
				return 1
			}
			return 0
		})
		maxHi := make([]uint64, len(rs))
		var m uint64
		for i, r := range rs {
			m = max(m, r.hi)
			maxHi[i] = m
		}
		t.ranges[p] = rangeIndex{rs, maxHi}
	}
	return t, nil
}

// parseDigits parses a string of 1 to 19 ASCII digits, which always fits in
// a uint64.
func parseDigits(s string) (uint64, error) {
	if len(s) == 0 || len(s) > 19 {
		return 0, strconv.ErrSyntax
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}

// Match returns the destination of a call from providerID to did with caller
// number callerID, at time at in the tenant's zone tz (nil means at's own
// location). holidays are the tenant-wide holidays; they apply together with
// each rule's own Holidays.
//
// Rule choice, which PortSIP does not spell out, is by specificity: a DID
// listed exactly beats a range containing it; among those, a rule with a CID
// mask that matches the caller beats a rule without one; then the narrower
// range wins; then the earlier rule in the input. A rule whose CID mask does
// not match the caller is skipped. A range matches a DID of digits only,
// whose length lies between the lengths of the range's two ends, so
// "100-199" does not match "0150".
//
// The destination is the rule's holiday forward during a holiday, else its
// office-hours forward within office hours, else its outside-hours forward.
// The result is false when no rule applies.
func (t *InboundTable) Match(providerID pbx.ID, did, callerID string, at time.Time, tz *time.Location, holidays []Holiday) (Destination, bool) {
	best, bestMasked := -1, false
	for _, ri := range t.exact[didKey{providerID, did}] {
		if ok, masked := t.rules[ri].cidMatch(callerID); ok && (best < 0 || masked && !bestMasked) {
			best, bestMasked = int(ri), masked
			if masked {
				break
			}
		}
	}
	if best < 0 {
		best = t.matchRange(providerID, did, callerID)
	}
	if best < 0 {
		return Destination{}, false
	}
	r := &t.rules[best].rule
	local := localTime(at, tz)
	d := Destination{RuleID: r.ID}
	switch {
	case inHolidays(local, r.Holidays, holidays):
		d.Forward = r.HolidayDest
	case r.OfficeHours.Open(local):
		d.Forward = r.OfficeHoursDest
	default:
		d.Forward = r.OutsideHoursDest
	}
	return d, true
}

func (t *InboundTable) matchRange(providerID pbx.ID, did, callerID string) int {
	idx, ok := t.ranges[providerID]
	if !ok {
		return -1
	}
	x, err := parseDigits(did)
	if err != nil {
		return -1
	}
	// i is the last range with lo <= x.
	i, _ := slices.BinarySearchFunc(idx.ranges, x, func(r didRange, x uint64) int {
		if r.lo <= x {
			return -1
		}
		return 1
	})
	best, bestMasked, bestWidth := -1, false, uint64(0)
	for i--; i >= 0 && idx.maxHi[i] >= x; i-- {
		r := idx.ranges[i]
		if x > r.hi || len(did) < r.loLen || len(did) > r.hiLen {
			continue
		}
		ok, masked := t.rules[r.rule].cidMatch(callerID)
		if !ok {
			continue
		}
		w := r.hi - r.lo
		better := best < 0 ||
			masked && !bestMasked ||
			masked == bestMasked && (w < bestWidth || w == bestWidth && int(r.rule) < best)
		if better {
			best, bestMasked, bestWidth = int(r.rule), masked, w
		}
	}
	return best
}

// cidMatch reports whether callerID passes the rule's CID mask, and whether
// the rule has one.
func (c *compiledInbound) cidMatch(callerID string) (ok, masked bool) {
	if len(c.masks) == 0 {
		return true, false
	}
	return matchAnyMask(c.masks, callerID), true
}
