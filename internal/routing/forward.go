package routing

import (
	"context"
	"encoding/json"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/pbx"
)

// maxForwards is how many users' forward rules one call may follow before
// it is refused with 482 (Loop Detected): 101 forwarding to 102, which
// forwards back to 101, must not ring forever.
const maxForwards = 5

// The actions of PortSIP's forward rules.
const (
	forwardToNumber    = "FORWARD_TO_NUMBER"
	forwardToVoicemail = "FORWARD_TO_VOICEMAIL"
	ringAnyway         = "RING_ANYWAY"
	hangUp             = "HANGUP"
)

// forwardRule is one of a user's *_forward_rule objects (internal/api
// users.go).
type forwardRule struct {
	Action  string `json:"action"`
	Number  string `json:"number"`
	Timeout *int   `json:"timeout"` // of the no-answer rules: seconds the phones ring
}

// userForwards are the fields of a user's settings that decide where a
// call to the user goes besides the user's phones.
type userForwards struct {
	EnableDND          bool                  `json:"enable_dnd"`
	OfficeHours        *dialplan.StoredHours `json:"office_hours"`
	AvailableOffice    *forwardRule          `json:"available_office_hours_forward_rule"`
	AvailableNonOffice *forwardRule          `json:"available_non_office_hours_forward_rule"`
	AvailableNoAnswer  *forwardRule          `json:"available_no_answer_forward_rule"`
	BusyOffice         *forwardRule          `json:"busy_office_hours_forward_rule"`
	BusyNonOffice      *forwardRule          `json:"busy_non_office_hours_forward_rule"`
	BusyNoAnswer       *forwardRule          `json:"busy_no_answer_forward_rule"`
	DNDOffice          *forwardRule          `json:"dnd_office_hours_forward_rule"`
	DNDNonOffice       *forwardRule          `json:"dnd_non_office_hours_forward_rule"`
	OfflineOffice      *forwardRule          `json:"offline_office_hours_forward_rule"`
	OfflineNonOffice   *forwardRule          `json:"offline_non_office_hours_forward_rule"`
}

// pick returns the office-hours rule or the non-office-hours one.
func pick(office bool, in, out *forwardRule) *forwardRule {
	if office {
		return in
	}
	return out
}

// action returns a rule's action, or def for a rule not set.
func (f *forwardRule) action(def string) string {
	if f == nil || f.Action == "" {
		return def
	}
	return f.Action
}

// toUser plans a call to callee's extension after callee's forward rules,
// as PortSIP's user resource sets them:
//
//   - With do-not-disturb on, the phones are not rung: the DND rule of
//     the hour (office or not) forwards the call, or hangs up; without a
//     rule the call goes to voicemail.
//   - Otherwise the available rule of the hour forwards the call at once,
//     or hangs up; RING_ANYWAY (or no rule) rings the phones.
//   - A rung call that no phone answers follows the rule of why: no answer
//     (available_no_answer, whose timeout is how long the phones ring),
//     busy (the busy rule of the hour; RING_ANYWAY or none leads on to
//     busy_no_answer) or offline (the offline rule of the hour). A rule not
//     set sends the call to voicemail, as for a new PortSIP user.
//
// Office hours are the user's own, or the tenant's for mode GLOBAL (and
// when none are set), in the tenant's time zone. A forward to a number is
// planned as a call to that number: an extension, with its user's own
// rules, up to maxForwards deep; a virtual receptionist; or an external
// number through the tenant's outbound rules (see forwardOut).
func (r *Router) toUser(ctx context.Context, tc *tenantConfig, p call.Plan, callee pbx.User, depth int) (call.Plan, error) {
	if depth >= maxForwards {
		return reject(p, sip.StatusLoopDetected, "too many forwards"), nil
	}
	var f userForwards
	if len(callee.Settings) > 0 {
		json.Unmarshal(callee.Settings, &f) // a user without readable settings forwards nothing
	}
	office := r.inOffice(tc, f.OfficeHours)
	box := callee.ExtensionNumber
	if f.EnableDND {
		rule := pick(office, f.DNDOffice, f.DNDNonOffice)
		return r.forwardNow(ctx, tc, p, rule.action(forwardToVoicemail), rule, box, depth)
	}
	if rule := pick(office, f.AvailableOffice, f.AvailableNonOffice); rule.action(ringAnyway) != ringAnyway {
		return r.forwardNow(ctx, tc, p, rule.Action, rule, box, depth)
	}
	p.Extension, p.Target = box, box
	if f.AvailableNoAnswer != nil && f.AvailableNoAnswer.Timeout != nil && *f.AvailableNoAnswer.Timeout > 0 {
		p.RingTimeout = time.Duration(*f.AvailableNoAnswer.Timeout) * time.Second
	}
	busy := pick(office, f.BusyOffice, f.BusyNonOffice)
	if busy.action(ringAnyway) == ringAnyway {
		busy = f.BusyNoAnswer
	}
	apps := map[call.Outcome]call.App{
		call.NoAnswer: r.afterRinging(f.AvailableNoAnswer),
		call.Busy:     r.afterRinging(busy),
		call.Offline:  r.afterRinging(pick(office, f.OfflineOffice, f.OfflineNonOffice)),
	}
	p.Unanswered = func(why call.Outcome) call.App { return apps[why] }
	return p, nil
}

// inOffice reports whether now is within a user's office hours: its own,
// or the tenant's for mode GLOBAL or none set.
func (r *Router) inOffice(tc *tenantConfig, h *dialplan.StoredHours) bool {
	hours := tc.hours
	if h != nil && h.Mode != "" && h.Mode != "GLOBAL" {
		hours = officeHours(h, r.log)
	}
	return hours.Open(r.d.Now().In(tc.tz))
}

// forwardNow plans a call that a rule sends on before any phone rings.
func (r *Router) forwardNow(ctx context.Context, tc *tenantConfig, p call.Plan, action string, rule *forwardRule, box string, depth int) (call.Plan, error) {
	switch action {
	case forwardToVoicemail:
		return r.toVoicemail(p, box), nil
	case forwardToNumber:
		if rule != nil && rule.Number != "" {
			return r.forwardTo(ctx, tc, p, rule.Number, depth+1)
		}
	}
	// HANGUP, and a forward without a number: the callee cannot be
	// reached now.
	return reject(p, sip.StatusBusyHere, "forward rule hangs up"), nil
}

// forwardTo plans a forwarded call to number.
func (r *Router) forwardTo(ctx context.Context, tc *tenantConfig, p call.Plan, number string, depth int) (call.Plan, error) {
	if ip, ok := r.toIVR(tc, p, number); ok {
		return ip, nil
	}
	callee, ok, err := r.extension(ctx, tc, number)
	if err != nil {
		return call.Plan{}, err
	}
	if ok {
		return r.toUser(ctx, tc, p, callee, depth)
	}
	dir := p.Direction
	out := r.forwardOut(tc, p, number, p.Caller, p.CallerName, p.Anonymous)
	if dir == call.ExtensionCall {
		out.Direction = call.OutboundCall
	}
	return out, nil
}

// afterRinging returns the App that takes a call no phone answered, as
// rule says: voicemail (also for no rule), or an App that puts the caller
// through to the rule's number; nil for HANGUP, which ends the call with
// its status.
func (r *Router) afterRinging(rule *forwardRule) call.App {
	switch rule.action(forwardToVoicemail) {
	case forwardToVoicemail:
		if r.d.Voicemail == nil {
			return nil
		}
		return r.d.Voicemail.Deposit()
	case forwardToNumber:
		if rule.Number == "" {
			return nil
		}
		// The session rings the number while the caller still hears
		// ringing (call.Forward).
		return call.Forward{Number: rule.Number}
	}
	return nil
}
