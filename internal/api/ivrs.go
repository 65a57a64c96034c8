package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// PortSIP's defaults of a virtual receptionist.
const (
	defaultIVRDTMFInterval = 2
	defaultIVRTimeout      = 30
	defaultIVRRepeatTimes  = 3
)

// IVRForwardRule is where a virtual receptionist sends a caller when it
// times out, fails, or is in night mode.
type IVRForwardRule struct {
	Action string `json:"action,omitempty" enum:"FORWARD_TO_NUMBER,FORWARD_TO_VOICEMAIL,REPEAT,HANGUP"`
	Number string `json:"number,omitempty"`
}

// IVRTimeoutRule is what happens when a caller presses nothing: the menu is
// repeated RepeatTimes times, Timeout seconds apart, then Action.
type IVRTimeoutRule struct {
	Timeout     int    `json:"timeout" default:"30" minimum:"1"`
	RepeatTimes int    `json:"repeat_times" default:"3" minimum:"0" format:"int32"`
	Action      string `json:"action,omitempty" enum:"FORWARD_TO_NUMBER,FORWARD_TO_VOICEMAIL,REPEAT,HANGUP"`
	Number      string `json:"number,omitempty"`
}

// ivrTimeoutInput is a timeout rule as a create or update gives it; left
// out, timeout and repeat_times keep their defaults.
type ivrTimeoutInput struct {
	Timeout     *int   `json:"timeout,omitempty" default:"30" minimum:"1"`
	RepeatTimes *int   `json:"repeat_times,omitempty" default:"3" minimum:"0" format:"int32"`
	Action      string `json:"action,omitempty" enum:"FORWARD_TO_NUMBER,FORWARD_TO_VOICEMAIL,REPEAT,HANGUP"`
	Number      string `json:"number,omitempty"`
}

// IVRKeyAction is what a custom rule's key does; DISA lets the caller dial
// out after a PIN.
type IVRKeyAction struct {
	Action string `json:"action,omitempty" enum:"FORWARD_TO_NUMBER,FORWARD_TO_VOICEMAIL,REPEAT,HANGUP,DISA"`
	Number string `json:"number,omitempty"`
}

// IVRCustomRuleFields are a custom rule's fields but its holidays.
type IVRCustomRuleFields struct {
	UserInput                 string           `json:"user_input"`
	OfficeHours               *RuleOfficeHours `json:"office_hours,omitempty"`
	OfficeHoursForwardRule    *IVRKeyAction    `json:"office_hours_forward_rule,omitempty"`
	NonOfficeHoursForwardRule *IVRKeyAction    `json:"non_office_hours_forward_rule,omitempty"`
	HolidayForwardRule        *IVRKeyAction    `json:"holiday_forward_rule,omitempty"`
}

// ivrCustomRuleInput is a custom rule as a create or update gives it:
// holidays by ID.
type ivrCustomRuleInput struct {
	IVRCustomRuleFields
	Holidays []string `json:"holidays,omitempty"`
}

// ivrCustomRuleItem is a custom rule as PortSIP shows it: holidays whole.
type ivrCustomRuleItem struct {
	IVRCustomRuleFields
	Holidays []ruleHoliday `json:"holidays"`
}

// storedCustomRule is a custom rule in the stored settings.
type storedCustomRule struct {
	IVRCustomRuleFields
	HolidayIDs []string `json:"holiday_ids"`
}

type ivrCallerID struct {
	ProviderID  string `json:"provider_id,omitempty"`
	CallerID    string `json:"caller_id,omitempty" maxLength:"64"`
	Description string `json:"description,omitempty" maxLength:"1024"`
}

// storedIVR is an IVR's settings as the store keeps them; the ivr app
// (internal/apps/ivr) reads the same JSON.
//
// BlockedNumbers is not in PortSIP's API document: its admin guide has a
// "block direct extension dialing" list ("1001-2001;3000;7000-8000") of
// extensions a caller may not dial directly from the menu.
type storedIVR struct {
	Language             string             `json:"language"`
	DTMFInterval         int                `json:"dtmf_interval"`
	PromptFileID         string             `json:"prompt_file_id,omitempty"`
	TransferPromptFileID string             `json:"transfer_prompt_file_id,omitempty"`
	EnablePIN            bool               `json:"enable_pin"`
	PIN                  string             `json:"pin"`
	TimeoutForwardRule   IVRTimeoutRule     `json:"timeout_forward_rule"`
	FailureForwardRule   *IVRForwardRule    `json:"failure_forward_rule,omitempty"`
	NightModeForwardRule *IVRForwardRule    `json:"night_mode_forward_rule,omitempty"`
	CustomForwardRules   []storedCustomRule `json:"custom_forward_rules"`
	OutboundCallerIDs    []ivrCallerID      `json:"outbound_caller_ids"`
	BlockedNumbers       string             `json:"blocked_extension_numbers,omitempty"`
}

func defaultIVR() storedIVR {
	return storedIVR{DTMFInterval: defaultIVRDTMFInterval, EnablePIN: true,
		TimeoutForwardRule: IVRTimeoutRule{Timeout: defaultIVRTimeout, RepeatTimes: defaultIVRRepeatTimes, Action: "HANGUP"}}
}

func decodeIVR(v store.IVR) storedIVR {
	st := defaultIVR()
	json.Unmarshal(v.Settings, &st)
	return st
}

// ivrListItem is a virtual receptionist in PortSIP's list.
type ivrListItem struct {
	ID              string `json:"id"`
	Name            string `json:"name" maxLength:"64"`
	ExtensionNumber string `json:"extension_number" maxLength:"64"`
}

// ivrItem is one virtual receptionist as PortSIP shows it. The prompt
// files are shown by name, size and a download URL.
type ivrItem struct {
	ID                     string              `json:"id"`
	Name                   string              `json:"name" maxLength:"64"`
	ExtensionNumber        string              `json:"extension_number" maxLength:"64"`
	Language               string              `json:"language"`
	DTMFInterval           int                 `json:"dtmf_interval" minimum:"1" format:"int32"`
	PromptFileName         string              `json:"prompt_file_name,omitempty"`
	PromptFileSize         int64               `json:"prompt_file_size,omitempty" minimum:"0" format:"int64"`
	PromptFileURL          string              `json:"prompt_file_url,omitempty"`
	TransferPromptFileName string              `json:"transfer_prompt_file_name,omitempty"`
	TransferPromptFileSize int64               `json:"transfer_prompt_file_size,omitempty" minimum:"0" format:"int64"`
	TransferPromptFileURL  string              `json:"transfer_prompt_file_url,omitempty"`
	EnablePIN              bool                `json:"enable_pin"`
	PIN                    string              `json:"pin" maxLength:"10"`
	TimeoutForwardRule     IVRTimeoutRule      `json:"timeout_forward_rule"`
	FailureForwardRule     *IVRForwardRule     `json:"failure_forward_rule,omitempty"`
	NightModeForwardRule   *IVRForwardRule     `json:"night_mode_forward_rule,omitempty"`
	CustomForwardRules     []ivrCustomRuleItem `json:"custom_forward_rules"`
	OutboundCallerIDs      []ivrCallerID       `json:"outbound_caller_ids"`
	BlockedNumbers         string              `json:"blocked_extension_numbers,omitempty"`
}

func (s *Server) ivrView(ctx context.Context, v store.IVR) ivrItem {
	st := decodeIVR(v)
	it := ivrItem{ID: v.ID.String(), Name: v.Name, ExtensionNumber: v.ExtensionNumber, Language: st.Language, DTMFInterval: st.DTMFInterval,
		EnablePIN: st.EnablePIN, PIN: st.PIN, TimeoutForwardRule: st.TimeoutForwardRule, FailureForwardRule: st.FailureForwardRule,
		NightModeForwardRule: st.NightModeForwardRule, OutboundCallerIDs: st.OutboundCallerIDs, BlockedNumbers: st.BlockedNumbers,
		CustomForwardRules: make([]ivrCustomRuleItem, 0, len(st.CustomForwardRules))}
	if it.OutboundCallerIDs == nil {
		it.OutboundCallerIDs = []ivrCallerID{}
	}
	it.PromptFileName, it.PromptFileSize, it.PromptFileURL = s.fileShown(ctx, v.Tenant, st.PromptFileID)
	it.TransferPromptFileName, it.TransferPromptFileSize, it.TransferPromptFileURL = s.fileShown(ctx, v.Tenant, st.TransferPromptFileID)
	for _, r := range st.CustomForwardRules {
		it.CustomForwardRules = append(it.CustomForwardRules, ivrCustomRuleItem{IVRCustomRuleFields: r.IVRCustomRuleFields,
			Holidays: s.ruleHolidays(ctx, v.Tenant, r.HolidayIDs)})
	}
	return it
}

// fileShown is a file's name, size and download URL; all empty when the
// file is not set or is gone.
func (s *Server) fileShown(ctx context.Context, tenant pbx.TenantID, raw string) (string, int64, string) {
	id, err := pbx.ParseID(raw)
	if err != nil {
		return "", 0, ""
	}
	f, err := s.db.File(ctx, tenant, id)
	if err != nil {
		return "", 0, ""
	}
	u := ""
	if f.SHA256 != "" {
		u = "/api/blobs/sha256:" + f.SHA256
	}
	return f.Name, f.Size, u
}

// IVRFields are the fields of a virtual receptionist an update sets; a
// create also takes extension_number (ivrCreate).
type IVRFields struct {
	Name                 *string               `json:"name,omitempty" maxLength:"64"`
	Language             *string               `json:"language,omitempty"`
	DTMFInterval         *int                  `json:"dtmf_interval,omitempty" minimum:"1" format:"int32"`
	PromptFileID         *string               `json:"prompt_file_id,omitempty"`
	TransferPromptFileID *string               `json:"transfer_prompt_file_id,omitempty"`
	EnablePIN            *bool                 `json:"enable_pin,omitempty"`
	PIN                  *string               `json:"pin,omitempty" maxLength:"10"`
	TimeoutForwardRule   *ivrTimeoutInput      `json:"timeout_forward_rule,omitempty"`
	FailureForwardRule   *IVRForwardRule       `json:"failure_forward_rule,omitempty"`
	NightModeForwardRule *IVRForwardRule       `json:"night_mode_forward_rule,omitempty"`
	CustomForwardRules   *[]ivrCustomRuleInput `json:"custom_forward_rules,omitempty"`
	OutboundCallerIDs    *[]ivrCallerID        `json:"outbound_caller_ids,omitempty"`
	BlockedNumbers       *string               `json:"blocked_extension_numbers,omitempty"`
}

type ivrCreate struct {
	ExtensionNumber *string `json:"extension_number,omitempty" maxLength:"64"`
	IVRFields
}

// inField renames err's field to prefix.field (or prefix when it names
// none), so that an error inside a nested object says where it is.
func inField(err error, prefix string) error {
	var e *pbx.Error
	if !errors.As(err, &e) || e.Code != pbx.EINVALID {
		return err
	}
	c := *e
	if c.Field == "" {
		c.Field = prefix
	} else {
		c.Field = prefix + "." + c.Field
	}
	return &c
}

// checkForward checks that an action that needs a number has one.
func checkForward(field, action, number string) error {
	switch action {
	case "FORWARD_TO_NUMBER", "FORWARD_TO_VOICEMAIL":
		if !numberish(number, false) {
			return pbx.FieldErrorf(field+".number", "%s needs a number", action)
		}
	}
	return nil
}

// userInput reports whether s is a key sequence a caller can press.
func userInput(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '*' && r != '#' {
			return false
		}
	}
	return true
}

// applyIVR writes the given fields over v after checking them.
func (s *Server) applyIVR(ctx context.Context, tenant pbx.TenantID, f *IVRFields, v *store.IVR) error {
	st := decodeIVR(*v)
	if f.Name != nil {
		v.Name = strings.TrimSpace(*f.Name)
	}
	setIf(&st.Language, f.Language)
	setIf(&st.DTMFInterval, f.DTMFInterval)
	setIf(&st.EnablePIN, f.EnablePIN)
	if f.PIN != nil {
		if !allDigits(*f.PIN) || len(*f.PIN) > 10 {
			return pbx.FieldErrorf("pin", "pin must be 1 to 10 digits")
		}
		st.PIN = *f.PIN
	}
	for _, pf := range []struct {
		field string
		src   *string
		dst   *string
	}{{"prompt_file_id", f.PromptFileID, &st.PromptFileID}, {"transfer_prompt_file_id", f.TransferPromptFileID, &st.TransferPromptFileID}} {
		if pf.src == nil {
			continue
		}
		if *pf.src == "" {
			*pf.dst = ""
			continue
		}
		if err := s.adoptPrompt(ctx, tenant, pf.field, *pf.src); err != nil {
			return err
		}
		*pf.dst = *pf.src
	}
	if t := f.TimeoutForwardRule; t != nil {
		r := IVRTimeoutRule{Timeout: defaultIVRTimeout, RepeatTimes: defaultIVRRepeatTimes, Action: t.Action, Number: t.Number}
		setIf(&r.Timeout, t.Timeout)
		setIf(&r.RepeatTimes, t.RepeatTimes)
		if r.Action == "" {
			r.Action = "HANGUP"
		}
		if r.Timeout < 1 {
			return pbx.FieldErrorf("timeout_forward_rule.timeout", "timeout must be at least 1 second")
		}
		if err := checkForward("timeout_forward_rule", r.Action, r.Number); err != nil {
			return err
		}
		st.TimeoutForwardRule = r
	}
	for _, fr := range []struct {
		name string
		src  *IVRForwardRule
		dst  **IVRForwardRule
	}{{"failure_forward_rule", f.FailureForwardRule, &st.FailureForwardRule},
		{"night_mode_forward_rule", f.NightModeForwardRule, &st.NightModeForwardRule}} {
		if fr.src == nil {
			continue
		}
		if err := checkForward(fr.name, fr.src.Action, fr.src.Number); err != nil {
			return err
		}
		*fr.dst = fr.src
	}
	if f.CustomForwardRules != nil {
		rules, err := s.checkCustomRules(ctx, tenant, *f.CustomForwardRules)
		if err != nil {
			return err
		}
		st.CustomForwardRules = rules
	}
	if f.OutboundCallerIDs != nil {
		for i, c := range *f.OutboundCallerIDs {
			if _, err := s.checkProviderRef(ctx, tenant, c.ProviderID, fmt.Sprintf("outbound_caller_ids[%d].provider_id", i)); err != nil {
				return err
			}
		}
		st.OutboundCallerIDs = *f.OutboundCallerIDs
	}
	if f.BlockedNumbers != nil {
		for _, n := range splitList(*f.BlockedNumbers) {
			if !numberish(n, true) {
				return pbx.FieldErrorf("blocked_extension_numbers", "%q is not a number or range of numbers", n)
			}
		}
		st.BlockedNumbers = strings.TrimSpace(*f.BlockedNumbers)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	v.Settings = b
	return nil
}

// checkCustomRules checks the menu's keys: each rule has a distinct key
// sequence, actions with the numbers they need, valid office hours and
// holidays of the tenant.
func (s *Server) checkCustomRules(ctx context.Context, tenant pbx.TenantID, in []ivrCustomRuleInput) ([]storedCustomRule, error) {
	out := make([]storedCustomRule, 0, len(in))
	seen := map[string]bool{}
	for i, r := range in {
		field := fmt.Sprintf("custom_forward_rules[%d]", i)
		if !userInput(r.UserInput) {
			return nil, pbx.FieldErrorf(field+".user_input", "user_input must be keys 0-9, * or #")
		}
		if seen[r.UserInput] {
			return nil, pbx.FieldErrorf(field+".user_input", "key %q is used by another rule", r.UserInput)
		}
		seen[r.UserInput] = true
		for _, a := range []struct {
			name string
			r    *IVRKeyAction
		}{{"office_hours_forward_rule", r.OfficeHoursForwardRule}, {"non_office_hours_forward_rule", r.NonOfficeHoursForwardRule},
			{"holiday_forward_rule", r.HolidayForwardRule}} {
			if a.r == nil {
				continue
			}
			if err := checkForward(field+"."+a.name, a.r.Action, a.r.Number); err != nil {
				return nil, err
			}
		}
		if r.OfficeHoursForwardRule == nil || r.OfficeHoursForwardRule.Action == "" {
			return nil, pbx.FieldErrorf(field+".office_hours_forward_rule", "a custom rule needs its office hours action")
		}
		if err := r.OfficeHours.check(); err != nil {
			return nil, inField(err, field)
		}
		if err := s.checkHolidays(ctx, tenant, r.Holidays); err != nil {
			return nil, inField(err, field)
		}
		out = append(out, storedCustomRule{IVRCustomRuleFields: r.IVRCustomRuleFields, HolidayIDs: r.Holidays})
	}
	return out, nil
}

// adoptPrompt checks that raw names a file of tenant holding a WAV the PBX
// plays, and keeps it from the sweep of temporary uploads; errors name
// field.
func (s *Server) adoptPrompt(ctx context.Context, tenant pbx.TenantID, field, raw string) error {
	id, err := pbx.ParseID(raw)
	if err != nil {
		return pbx.FieldErrorf(field, "no file %q", raw)
	}
	f, err := s.db.File(ctx, tenant, id)
	if pbx.ErrorCode(err) == pbx.ENOTFOUND {
		return pbx.FieldErrorf(field, "no file %q", raw)
	} else if err != nil {
		return err
	}
	path, err := s.dataPath(f.Path)
	if err != nil {
		return err
	}
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pbx.FieldErrorf(field, "file %s has no content", f.ID)
	} else if err != nil {
		return fmt.Errorf("check prompt: %w", err)
	}
	_, err = audio.CheckWAV(fh)
	fh.Close()
	if err != nil {
		return wavError(field, err)
	}
	if f.Temporary {
		return s.db.SetFileTemporary(ctx, tenant, f.ID, false)
	}
	return nil
}

// registerIVRs serves /ivrs, the tenant's virtual receptionists, and their
// action URLs.
func (s *Server) registerIVRs() {
	tags := []string{"Virtual Receptionist"}
	handle(s, huma.Operation{OperationID: "list_ivrs", Method: http.MethodGet, Path: "/ivrs", Tags: tags, Summary: "Lists virtual receptionists"},
		tenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[ivrListItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			vs, n, err := s.db.ListIVRs(ctx, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]ivrListItem, 0, len(vs))
			for _, v := range vs {
				items = append(items, ivrListItem{ID: v.ID.String(), Name: v.Name, ExtensionNumber: v.ExtensionNumber})
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_ivr", Method: http.MethodPost, Path: "/ivrs", Tags: tags, Summary: "Create a virtual receptionist.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body ivrCreate }) (*idBody, error) {
			b := in.Body
			for _, m := range []struct {
				field   string
				missing bool
			}{{"name", b.Name == nil}, {"extension_number", b.ExtensionNumber == nil}, {"pin", b.PIN == nil}} {
				if m.missing {
					return nil, pbx.FieldErrorf(m.field, "%s is required", m.field)
				}
			}
			if err := checkExtensionNumber(*b.ExtensionNumber); err != nil {
				return nil, err
			}
			v := store.IVR{Tenant: p.scope, ExtensionNumber: *b.ExtensionNumber}
			if err := s.applyIVR(ctx, p.scope, &b.IVRFields, &v); err != nil {
				return nil, err
			}
			if err := s.db.CreateIVR(ctx, p.scope, &v); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "VIRTUAL_RECEPTIONIST", v.Name, nil, s.ivrView(ctx, v))
			return created(v.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_ivr", Method: http.MethodGet, Path: "/ivrs/{id}", Tags: tags, Summary: "Retrieve a virtual receptionist"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body ivrItem }, error) {
			v, err := s.ivrByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body ivrItem }{Body: s.ivrView(ctx, v)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_ivr", Method: http.MethodPost, Path: "/ivrs/{id}", Tags: tags, Summary: "Update a virtual receptionist",
		Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID   string `path:"id"`
			Body IVRFields
		}) (*noContent, error) {
			v, err := s.ivrByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			old := s.ivrView(ctx, v)
			if err := s.applyIVR(ctx, p.scope, &in.Body, &v); err != nil {
				return nil, err
			}
			if err := s.db.UpdateIVR(ctx, p.scope, &v); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "VIRTUAL_RECEPTIONIST", v.Name, old, s.ivrView(ctx, v))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_ivr", Method: http.MethodPost, Path: "/ivrs/{id}/destroy", Tags: tags, Summary: "Delete a virtual receptionist"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			v, err := s.ivrByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteIVR(ctx, p.scope, v.ID); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "VIRTUAL_RECEPTIONIST", v.Name, s.ivrView(ctx, v), nil)
			return &noContent{}, nil
		})
	s.registerActionURLs(tags)
}

func (s *Server) ivrByPath(ctx context.Context, p *principal, raw string) (store.IVR, error) {
	id, err := parseID(raw, "virtual receptionist")
	if err != nil {
		return store.IVR{}, err
	}
	return s.db.IVR(ctx, p.scope, id)
}

// ActionURLSettings are an action URL's fields as stored; the ivr app
// reads the same JSON. Password and token are write-only: the API never
// shows them.
type ActionURLSettings struct {
	Name              string `json:"name"`
	Enabled           bool   `json:"enabled"`
	Type              string `json:"type"`
	CallerMask        string `json:"caller_mask"`
	DTMFMask          string `json:"dtmf_mask"`
	Method            string `json:"method"`
	Headers           string `json:"headers"`
	ConnectionTimeout int    `json:"connection_timeout"`
	RequestTimeout    int    `json:"request_timeout"`
	Auth              string `json:"auth"`
	Username          string `json:"username"`
	Password          string `json:"password,omitempty"`
	Token             string `json:"token,omitempty"`
	URL               string `json:"url"`
}

// actionURLItem is an action URL as PortSIP shows it, without its secrets.
type actionURLItem struct {
	ID                string `json:"id"`
	Name              string `json:"name" maxLength:"64"`
	Enabled           bool   `json:"enabled"`
	Type              string `json:"type" enum:"DTMF,CALLER"`
	CallerMask        string `json:"caller_mask" maxLength:"255"`
	DTMFMask          string `json:"dtmf_mask" maxLength:"255"`
	Method            string `json:"method" enum:"GET,POST"`
	Headers           string `json:"headers"`
	ConnectionTimeout int    `json:"connection_timeout" minimum:"0" format:"int32"`
	RequestTimeout    int    `json:"request_timeout" minimum:"0" format:"int32"`
	Auth              string `json:"auth" enum:"DISABLE,BASIC,DIGEST,BEARER"`
	Username          string `json:"username" maxLength:"64"`
	URL               string `json:"url" maxLength:"128"`
}

func actionURLView(a store.ActionURL) actionURLItem {
	st := defaultActionURL()
	json.Unmarshal(a.Settings, &st)
	return actionURLItem{ID: a.ID.String(), Name: st.Name, Enabled: st.Enabled, Type: st.Type, CallerMask: st.CallerMask, DTMFMask: st.DTMFMask,
		Method: st.Method, Headers: st.Headers, ConnectionTimeout: st.ConnectionTimeout, RequestTimeout: st.RequestTimeout, Auth: st.Auth,
		Username: st.Username, URL: st.URL}
}

func defaultActionURL() ActionURLSettings {
	return ActionURLSettings{Type: "DTMF", Method: "GET", ConnectionTimeout: 2, RequestTimeout: 2, Auth: "DISABLE"}
}

// ActionURLFields are the fields of an action URL a create or update sets.
type ActionURLFields struct {
	Name              *string `json:"name,omitempty" maxLength:"64"`
	Enabled           *bool   `json:"enabled,omitempty"`
	Type              *string `json:"type,omitempty" enum:"DTMF,CALLER"`
	CallerMask        *string `json:"caller_mask,omitempty" maxLength:"255"`
	DTMFMask          *string `json:"dtmf_mask,omitempty" maxLength:"255"`
	Method            *string `json:"method,omitempty" enum:"GET,POST"`
	Headers           *string `json:"headers,omitempty"`
	ConnectionTimeout *int    `json:"connection_timeout,omitempty" minimum:"0" format:"int32"`
	RequestTimeout    *int    `json:"request_timeout,omitempty" minimum:"0" format:"int32"`
	Auth              *string `json:"auth,omitempty" enum:"DISABLE,BASIC,DIGEST,BEARER"`
	Username          *string `json:"username,omitempty" maxLength:"64"`
	Password          *string `json:"password,omitempty" maxLength:"64"`
	Token             *string `json:"token,omitempty"`
	URL               *string `json:"url,omitempty" maxLength:"128"`
}

// checkMask accepts PortSIP's match lists: entries split by ';' (or ','),
// each digits with '*' for any one digit, a range "860000-880000", or (for
// DTMF only) ALL.
func checkMask(field, mask string, all bool) error {
	for _, e := range splitList(mask) {
		if all && e == "ALL" {
			continue
		}
		if !numberish(e, true) {
			return pbx.FieldErrorf(field, "%q is not a number, range or pattern", e)
		}
	}
	return nil
}

func applyActionURL(f *ActionURLFields, a *store.ActionURL) error {
	st := defaultActionURL()
	if len(a.Settings) > 0 {
		json.Unmarshal(a.Settings, &st)
	}
	setIf(&st.Name, f.Name)
	setIf(&st.Enabled, f.Enabled)
	setIf(&st.Type, f.Type)
	setIf(&st.CallerMask, f.CallerMask)
	setIf(&st.DTMFMask, f.DTMFMask)
	setIf(&st.Method, f.Method)
	setIf(&st.Headers, f.Headers)
	setIf(&st.ConnectionTimeout, f.ConnectionTimeout)
	setIf(&st.RequestTimeout, f.RequestTimeout)
	setIf(&st.Auth, f.Auth)
	setIf(&st.Username, f.Username)
	setIf(&st.Password, f.Password)
	setIf(&st.Token, f.Token)
	setIf(&st.URL, f.URL)
	if u, err := url.Parse(st.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return pbx.FieldErrorf("url", "url must be an http or https URL")
	}
	if err := checkMask("caller_mask", st.CallerMask, false); err != nil {
		return err
	}
	if err := checkMask("dtmf_mask", st.DTMFMask, true); err != nil {
		return err
	}
	for _, kv := range strings.Split(st.Headers, "&") {
		if kv == "" {
			continue
		}
		if k, _, ok := strings.Cut(kv, ":"); !ok || strings.TrimSpace(k) == "" {
			return pbx.FieldErrorf("headers", "headers must be name:value pairs joined by &")
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	a.Settings = b
	return nil
}

type actionURLPath struct {
	ID    string `path:"id"`
	URLID string `path:"url_id"`
}

type actionURLList struct {
	Body struct {
		Items []actionURLItem `json:"items"`
	}
}

func (s *Server) registerActionURLs(tags []string) {
	handle(s, huma.Operation{OperationID: "list_ivr_action_urls", Method: http.MethodGet, Path: "/ivrs/{id}/action_urls", Tags: tags, Summary: "List action urls"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*actionURLList, error) {
			v, err := s.ivrByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			as, err := s.db.ActionURLs(ctx, p.scope, v.ID)
			if err != nil {
				return nil, err
			}
			out := &actionURLList{}
			out.Body.Items = make([]actionURLItem, 0, len(as))
			for _, a := range as {
				out.Body.Items = append(out.Body.Items, actionURLView(a))
			}
			return out, nil
		})
	handle(s, huma.Operation{OperationID: "create_ivr_action_url", Method: http.MethodPost, Path: "/ivrs/{id}/action_urls", Tags: tags,
		Summary: "Create an action url", DefaultStatus: http.StatusCreated},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID   string `path:"id"`
			Body ActionURLFields
		}) (*idBody, error) {
			v, err := s.ivrByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			a := store.ActionURL{IVR: v.ID}
			if err := applyActionURL(&in.Body, &a); err != nil {
				return nil, err
			}
			if err := s.db.CreateActionURL(ctx, p.scope, &a); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "VIRTUAL_RECEPTIONIST", v.Name, nil, actionURLView(a))
			return created(a.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_ivr_action_url", Method: http.MethodGet, Path: "/ivrs/{id}/action_urls/{url_id}", Tags: tags,
		Summary: "Retrieve action url"},
		tenantAdmin, func(ctx context.Context, p *principal, in *actionURLPath) (*struct{ Body actionURLItem }, error) {
			_, a, err := s.actionURLByPath(ctx, p, in)
			if err != nil {
				return nil, err
			}
			return &struct{ Body actionURLItem }{Body: actionURLView(a)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_ivr_action_url", Method: http.MethodPost, Path: "/ivrs/{id}/action_urls/{url_id}", Tags: tags,
		Summary: "Update action url"},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID    string `path:"id"`
			URLID string `path:"url_id"`
			Body  ActionURLFields
		}) (*noContent, error) {
			v, a, err := s.actionURLByPath(ctx, p, &actionURLPath{ID: in.ID, URLID: in.URLID})
			if err != nil {
				return nil, err
			}
			old := actionURLView(a)
			if err := applyActionURL(&in.Body, &a); err != nil {
				return nil, err
			}
			if err := s.db.UpdateActionURL(ctx, p.scope, &a); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "VIRTUAL_RECEPTIONIST", v.Name, old, actionURLView(a))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_ivr_action_url", Method: http.MethodPost, Path: "/ivrs/{id}/action_urls/{url_id}/destroy", Tags: tags,
		Summary: "Delete an action url"},
		tenantAdmin, func(ctx context.Context, p *principal, in *actionURLPath) (*noContent, error) {
			v, a, err := s.actionURLByPath(ctx, p, in)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteActionURL(ctx, p.scope, v.ID, a.ID); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "VIRTUAL_RECEPTIONIST", v.Name, actionURLView(a), nil)
			return &noContent{}, nil
		})
}

func (s *Server) actionURLByPath(ctx context.Context, p *principal, in *actionURLPath) (store.IVR, store.ActionURL, error) {
	v, err := s.ivrByPath(ctx, p, in.ID)
	if err != nil {
		return v, store.ActionURL{}, err
	}
	id, err := parseID(in.URLID, "action url")
	if err != nil {
		return v, store.ActionURL{}, err
	}
	a, err := s.db.ActionURL(ctx, p.scope, v.ID, id)
	return v, a, err
}
