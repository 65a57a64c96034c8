package ivr

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/apps/menu"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// Forward actions, as PortSIP names them.
const (
	actionNumber    = "FORWARD_TO_NUMBER"
	actionVoicemail = "FORWARD_TO_VOICEMAIL"
	actionRepeat    = "REPEAT"
	actionHangup    = "HANGUP"
	actionDISA      = "DISA"
)

// maxInput bounds the keys of one menu input, as the API bounds user_input.
const maxInput = 64

// outcome is what handling the caller's input led to.
type outcome int

const (
	// done: the caller was sent on or hung up on; Serve returns.
	done outcome = iota
	// repeat: play the menu again.
	repeat
	// invalid: the caller was told so; play the menu again, counting
	// towards the failure rule.
	invalid
)

// session is one caller in one IVR's menu. Only Serve's goroutine uses it.
type session struct {
	s    *Service
	c    *call.AppCall
	ivr  store.IVR
	set  settings
	fw   Forwarder
	m    *menu.Caller
	log  *slog.Logger
	urls []actionURL
}

func (x *session) run(ctx context.Context) error {
	x.urls = x.s.actionURLs(ctx, x.c.Tenant.ID, x.ivr.ID, x.log)
	// A caller-number action URL decides before the menu plays.
	if o, ok, err := x.askURLs(ctx, urlCaller, ""); err != nil || (ok && o == done) {
		return err
	}
	timeouts, invalids := 0, 0
	for {
		key, err := x.m.Play(ctx, true, x.menuPrompt(ctx)...)
		if err != nil {
			return err
		}
		if key == 0 {
			key, err = x.m.Key(ctx, x.timeout())
			if errors.Is(err, menu.ErrTimeout) {
				timeouts++
				if timeouts <= x.set.Timeout.RepeatTimes {
					continue
				}
				x.log.Debug("ivr timed out", "action", x.set.Timeout.Action)
				o, err := x.forward(ctx, forward{Action: x.set.Timeout.Action, Number: x.set.Timeout.Number})
				if err != nil || o == done {
					return err
				}
				timeouts = 0
				continue
			}
			if err != nil {
				return err
			}
		}
		timeouts = 0
		input, err := x.collect(ctx, key)
		if err != nil {
			return err
		}
		o, err := x.input(ctx, input)
		if err != nil || o == done {
			return err
		}
		if o != invalid {
			invalids = 0
			continue
		}
		if invalids++; invalids < x.s.cfg.InvalidLimit {
			continue
		}
		invalids = 0
		f := x.set.Failure
		if f == nil || f.Action == "" {
			f = &forward{Action: actionHangup}
		}
		if o, err := x.forward(ctx, *f); err != nil || o == done {
			return err
		}
	}
}

// menuPrompt is the IVR's own prompt file, or the system's "thank you for
// calling, please dial the number".
func (x *session) menuPrompt(ctx context.Context) []menu.Source {
	if src, ok := x.s.fileSource(ctx, x.c.Tenant.ID, x.set.PromptFileID); ok {
		return []menu.Source{src}
	}
	return menu.Ps("ivr/thank-you", "ivr/dial-number")
}

func (x *session) timeout() time.Duration {
	if x.set.Timeout.Timeout <= 0 {
		return 30 * time.Second
	}
	return time.Duration(x.set.Timeout.Timeout) * time.Second
}

func (x *session) interval() time.Duration {
	if x.set.DTMFInterval <= 0 {
		return 2 * time.Second
	}
	return time.Duration(x.set.DTMFInterval) * time.Second
}

// collect reads the caller's input after its first key: while more keys
// could still make a longer custom rule, action-URL match or extension
// number, it waits up to dtmf_interval for each next key; '#' ends the
// input at once (PortSIP's "2#" to dial 2 without waiting).
func (x *session) collect(ctx context.Context, first rune) (string, error) {
	seq := string(first)
	if first == '#' {
		if x.rule("#") != nil {
			return seq, nil
		}
		return "", nil
	}
	for len(seq) < maxInput && x.mayGrow(ctx, seq) {
		k, err := x.m.Key(ctx, x.interval())
		if errors.Is(err, menu.ErrTimeout) {
			break
		}
		if err != nil {
			return "", err
		}
		if k == '#' {
			break
		}
		seq += string(k)
	}
	return seq, nil
}

// mayGrow reports whether keys after seq could still match something
// longer.
func (x *session) mayGrow(ctx context.Context, seq string) bool {
	for _, r := range x.set.CustomRules {
		if len(r.UserInput) > len(seq) && strings.HasPrefix(r.UserInput, seq) {
			return true
		}
	}
	for _, u := range x.urls {
		if u.Type == urlDTMF && maskMayGrow(u.DTMFMask, seq) {
			return true
		}
	}
	longer, err := x.s.st.HasLongerExtension(ctx, x.c.Tenant.ID, seq)
	if err != nil {
		x.log.Warn("ivr extension lookup failed", "error", err)
		return false
	}
	return longer
}

func (x *session) rule(input string) *customRule {
	for i := range x.set.CustomRules {
		if x.set.CustomRules[i].UserInput == input {
			return &x.set.CustomRules[i]
		}
	}
	return nil
}

// input acts on what the caller keyed: an action URL whose DTMF list
// matches decides first, then the custom rule of the same keys, then an
// extension of the tenant dialled directly.
func (x *session) input(ctx context.Context, seq string) (outcome, error) {
	if seq == "" {
		return x.invalid(ctx, "invalid-option")
	}
	if o, ok, err := x.askURLs(ctx, urlDTMF, seq); err != nil || ok {
		return o, err
	}
	if r := x.rule(seq); r != nil {
		f := x.ruleForward(ctx, r)
		x.log.Debug("ivr key", "input", seq, "action", f.Action, "number", f.Number)
		return x.forward(ctx, f)
	}
	return x.direct(ctx, seq)
}

// direct puts the caller through to extension seq of the tenant: a user or
// another virtual receptionist, unless the IVR blocks it.
func (x *session) direct(ctx context.Context, seq string) (outcome, error) {
	if len(seq) < 2 {
		return x.invalid(ctx, "invalid-option")
	}
	if inRanges(x.set.BlockedNumbers, seq) {
		x.log.Debug("ivr direct dial blocked", "input", seq)
		return x.invalid(ctx, "ivr/invalid-extension")
	}
	e, err := x.s.st.Extension(ctx, x.c.Tenant.ID, seq)
	switch {
	case pbx.ErrorCode(err) == pbx.ENOTFOUND:
		return x.invalid(ctx, "ivr/invalid-extension")
	case err != nil:
		return done, err
	}
	switch {
	case e.Type == pbx.ExtensionVirtualReceptionist && e.Owner == x.ivr.ID:
		return repeat, nil
	case e.Type == pbx.ExtensionUser, e.Type == pbx.ExtensionVirtualReceptionist:
		return x.transfer(ctx, seq)
	}
	return x.invalid(ctx, "ivr/invalid-extension")
}

// invalid tells the caller its input led nowhere.
func (x *session) invalid(ctx context.Context, prompt string) (outcome, error) {
	if _, err := x.m.Play(ctx, false, menu.P(prompt)); err != nil {
		return done, err
	}
	return invalid, nil
}

// forward runs a forward rule's action.
func (x *session) forward(ctx context.Context, f forward) (outcome, error) {
	switch f.Action {
	case actionNumber:
		if f.Number == "" {
			return x.invalid(ctx, "ivr/invalid-extension")
		}
		return x.transfer(ctx, f.Number)
	case actionVoicemail:
		if f.Number == "" {
			return x.invalid(ctx, "ivr/invalid-extension")
		}
		x.log.Info("ivr sends caller to voicemail", "box", f.Number)
		x.fw.Voicemail(f.Number)
		return done, nil
	case actionRepeat:
		return repeat, nil
	case actionHangup:
		return done, x.m.PlayLast(ctx, menu.P("goodbye"))
	case actionDISA:
		return x.disa(ctx)
	}
	return x.invalid(ctx, "invalid-option")
}

// transfer tells the caller to hold (the IVR's transfer prompt or the
// system's) and puts it through to number.
func (x *session) transfer(ctx context.Context, number string) (outcome, error) {
	src, ok := x.s.fileSource(ctx, x.c.Tenant.ID, x.set.TransferPromptFileID)
	if !ok {
		src = menu.P("ivr/transfer-hold")
	}
	if err := x.m.PlayLast(ctx, src); err != nil {
		return done, err
	}
	x.log.Info("ivr transfers caller", "number", number)
	x.fw.Transfer(number)
	return done, nil
}

// disa lets the caller dial any number, as if calling from inside the PBX,
// after the IVR's PIN when enable_pin is set: PINAttempts wrong PINs end
// the call. The number ends with '#' (or a pause).
func (x *session) disa(ctx context.Context) (outcome, error) {
	if x.set.EnablePIN {
		for attempt := 1; ; attempt++ {
			key, err := x.m.Play(ctx, true, menu.P("ivr/enter-pin"))
			if err != nil {
				return done, err
			}
			pin, err := x.m.Collect(ctx, key, '#', 10, x.s.cfg.KeyTimeout)
			if err != nil && !errors.Is(err, menu.ErrTimeout) {
				return done, err
			}
			// An IVR without a PIN lets no one through.
			if x.set.PIN != "" && pin == x.set.PIN {
				break
			}
			x.log.Info("ivr disa wrong pin", "attempt", attempt)
			if attempt >= x.s.cfg.PINAttempts {
				return done, x.m.PlayLast(ctx, menu.P("goodbye"))
			}
			if _, err := x.m.Play(ctx, false, menu.P("invalid-option")); err != nil {
				return done, err
			}
		}
	}
	key, err := x.m.Play(ctx, true, menu.P("ivr/dial-number"))
	if err != nil {
		return done, err
	}
	number, err := x.m.Collect(ctx, key, '#', maxInput, x.s.cfg.KeyTimeout)
	if err != nil && !errors.Is(err, menu.ErrTimeout) {
		return done, err
	}
	if number == "" {
		return done, x.m.PlayLast(ctx, menu.P("goodbye"))
	}
	x.log.Info("ivr disa call", "number", number)
	x.fw.Transfer(number)
	return done, nil
}

// inRanges reports whether number is one of list's numbers or ranges
// ("1001-2001;3000").
func inRanges(list, number string) bool {
	for _, e := range strings.FieldsFunc(list, func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
		lo, hi, isRange := strings.Cut(e, "-")
		if !isRange {
			if e == number {
				return true
			}
			continue
		}
		if len(lo) == len(number) && len(hi) == len(number) && lo <= number && number <= hi {
			return true
		}
	}
	return false
}
