package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/mail"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// The user fields that have no column of their own (forward rules, office
// hours, voicemail settings...) live in pbx.User.Settings as the JSON of
// UserSettings. Every field is a pointer with omitempty so that one type
// serves creates, partial updates and answers: a nil field is "not given".

type hoursRange struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

type userDayHours struct {
	Enabled *bool         `json:"enabled,omitempty"`
	Ranges  *[]hoursRange `json:"ranges,omitempty"`
}

type userWeekHours struct {
	Monday    *userDayHours `json:"monday,omitempty"`
	Tuesday   *userDayHours `json:"tuesday,omitempty"`
	Wednesday *userDayHours `json:"wednesday,omitempty"`
	Thursday  *userDayHours `json:"thursday,omitempty"`
	Friday    *userDayHours `json:"friday,omitempty"`
	Saturday  *userDayHours `json:"saturday,omitempty"`
	Sunday    *userDayHours `json:"sunday,omitempty"`
}

type userOfficeHours struct {
	Mode      string        `json:"mode,omitempty" enum:"GLOBAL,CUSTOM"`
	Monday    *userDayHours `json:"monday,omitempty"`
	Tuesday   *userDayHours `json:"tuesday,omitempty"`
	Wednesday *userDayHours `json:"wednesday,omitempty"`
	Thursday  *userDayHours `json:"thursday,omitempty"`
	Friday    *userDayHours `json:"friday,omitempty"`
	Saturday  *userDayHours `json:"saturday,omitempty"`
	Sunday    *userDayHours `json:"sunday,omitempty"`
}

// forwardRule is a presence forward rule that cannot ring anyway.
type forwardRule struct {
	Action string `json:"action,omitempty" enum:"FORWARD_TO_NUMBER,FORWARD_TO_VOICEMAIL,HANGUP"`
	Number string `json:"number,omitempty"`
}

// ringForwardRule is a forward rule of the available and busy presences.
type ringForwardRule struct {
	Action string `json:"action,omitempty" enum:"FORWARD_TO_NUMBER,FORWARD_TO_VOICEMAIL,RING_ANYWAY,HANGUP"`
	Number string `json:"number,omitempty"`
}

// noAnswerRule says what happens when a call rings out.
type noAnswerRule struct {
	Action  string `json:"action,omitempty" enum:"FORWARD_TO_NUMBER,FORWARD_TO_VOICEMAIL,HANGUP"`
	Number  string `json:"number,omitempty"`
	Timeout *int   `json:"timeout,omitempty" minimum:"0" format:"int32"`
}

type customForwardRule struct {
	Action   string         `json:"action,omitempty" enum:"FORWARD_TO_NUMBER,FORWARD_TO_VOICEMAIL,RING_ANYWAY,HANGUP"`
	Number   string         `json:"number,omitempty"`
	CallerID string         `json:"caller_id,omitempty"`
	Type     string         `json:"type,omitempty" enum:"ALL_HOURS,SPECIFIC_HOURS,OUTSIDE_SPECIFIC_HOURS"`
	Hours    *userWeekHours `json:"hours,omitempty"`
}

type outboundCallerID struct {
	ProviderID  string `json:"provider_id,omitempty"`
	CallerID    string `json:"caller_id,omitempty" maxLength:"64"`
	Preferred   *bool  `json:"preferred,omitempty"`
	Description string `json:"description,omitempty" maxLength:"1024"`
}

type blf struct {
	Key       string `json:"key,omitempty"`
	Value     string `json:"value,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
}

// UserSettings are the user fields kept in pbx.User.Settings. It and the
// other body types embedded in bodies are exported because huma flattens
// only exported embedded structs.
type UserSettings struct {
	EnableAudioRecording               *bool                `json:"enable_audio_recording,omitempty"`
	EnableVideoRecording               *bool                `json:"enable_video_recording,omitempty"`
	EnableDND                          *bool                `json:"enable_dnd,omitempty"`
	EnableACB                          *bool                `json:"enable_acb,omitempty"`
	EnableHotDesking                   *bool                `json:"enable_hot_desking,omitempty"`
	AnonymousOutboundCalls             *bool                `json:"anonymous_outbound_calls,omitempty"`
	DeliveryOutboundCID                *bool                `json:"delivery_outbound_cid,omitempty"`
	SMS                                *string              `json:"sms,omitempty" enum:"DISABLE,ALLOW,ALLOW_WITH_SENDER_ID"`
	OutboundCallerIDs                  *[]outboundCallerID  `json:"outbound_caller_ids,omitempty"`
	CustomOptions                      *string              `json:"custom_options,omitempty"`
	OfficeHours                        *userOfficeHours     `json:"office_hours,omitempty"`
	AvailableOfficeHoursForwardRule    *ringForwardRule     `json:"available_office_hours_forward_rule,omitempty"`
	AvailableNonOfficeHoursForwardRule *ringForwardRule     `json:"available_non_office_hours_forward_rule,omitempty"`
	AvailableNoAnswerForwardRule       *noAnswerRule        `json:"available_no_answer_forward_rule,omitempty"`
	BusyOfficeHoursForwardRule         *ringForwardRule     `json:"busy_office_hours_forward_rule,omitempty"`
	BusyNonOfficeHoursForwardRule      *ringForwardRule     `json:"busy_non_office_hours_forward_rule,omitempty"`
	BusyNoAnswerForwardRule            *noAnswerRule        `json:"busy_no_answer_forward_rule,omitempty"`
	DNDOfficeHoursForwardRule          *forwardRule         `json:"dnd_office_hours_forward_rule,omitempty"`
	DNDNonOfficeHoursForwardRule       *forwardRule         `json:"dnd_non_office_hours_forward_rule,omitempty"`
	AwayOfficeHoursForwardRule         *forwardRule         `json:"away_office_hours_forward_rule,omitempty"`
	AwayNonOfficeHoursForwardRule      *forwardRule         `json:"away_non_office_hours_forward_rule,omitempty"`
	LunchOfficeHoursForwardRule        *forwardRule         `json:"lunch_office_hours_forward_rule,omitempty"`
	LunchNonOfficeHoursForwardRule     *forwardRule         `json:"lunch_non_office_hours_forward_rule,omitempty"`
	TripOfficeHoursForwardRule         *forwardRule         `json:"trip_office_hours_forward_rule,omitempty"`
	TripNonOfficeHoursForwardRule      *forwardRule         `json:"trip_non_office_hours_forward_rule,omitempty"`
	OfflineOfficeHoursForwardRule      *forwardRule         `json:"offline_office_hours_forward_rule,omitempty"`
	OfflineNonOfficeHoursForwardRule   *forwardRule         `json:"offline_non_office_hours_forward_rule,omitempty"`
	CustomForwardRules                 *[]customForwardRule `json:"custom_forward_rules,omitempty"`
	VoicemailPrompt                    *string              `json:"voicemail_prompt,omitempty"`
	EnableVoicemailPIN                 *bool                `json:"enable_voicemail_pin,omitempty"`
	VoicemailPIN                       *string              `json:"voicemail_pin,omitempty" maxLength:"10"`
	EnableVoicemailNotify              *bool                `json:"enable_voicemail_notify,omitempty"`
	VoicemailPlayDatetime              *string              `json:"voicemail_play_datetime,omitempty" enum:"DISABLE,12_HOUR_CLOCK,24_HOUR_CLOCK"`
	Interface                          *string              `json:"interface,omitempty" enum:"WEB_DOMAIN,PUBLIC_IPV4,PUBLIC_IPV6,PRIVATE_IPV4,PRIVATE_IPV6,SBC_DOMAIN"`
	PreferredTransport                 *string              `json:"preferred_transport,omitempty" enum:"UDP,TCP,TLS"`
	BLFs                               *[]blf               `json:"blfs,omitempty"`
}

func ptrTo[T any](v T) *T { return &v }

// defaultSettings are PortSIP's defaults for a new user.
func defaultSettings() UserSettings {
	return UserSettings{
		EnableAudioRecording:         ptrTo(false),
		EnableVideoRecording:         ptrTo(false),
		EnableDND:                    ptrTo(false),
		EnableACB:                    ptrTo(false),
		EnableHotDesking:             ptrTo(false),
		AnonymousOutboundCalls:       ptrTo(false),
		DeliveryOutboundCID:          ptrTo(true),
		SMS:                          ptrTo("DISABLE"),
		OutboundCallerIDs:            &[]outboundCallerID{},
		OfficeHours:                  &userOfficeHours{Mode: "GLOBAL"},
		AvailableNoAnswerForwardRule: &noAnswerRule{Action: "FORWARD_TO_VOICEMAIL", Timeout: ptrTo(60)},
		BusyNoAnswerForwardRule:      &noAnswerRule{Action: "FORWARD_TO_VOICEMAIL", Timeout: ptrTo(60)},
		CustomForwardRules:           &[]customForwardRule{},
		EnableVoicemailPIN:           ptrTo(true),
		EnableVoicemailNotify:        ptrTo(false),
		BLFs:                         &[]blf{},
	}
}

// loadSettings reads a user's stored settings over the defaults, so that a
// field added later reads as its default on older users.
func loadSettings(raw json.RawMessage) UserSettings {
	st := defaultSettings()
	if len(raw) > 0 {
		json.Unmarshal(raw, &st)
	}
	return st
}

// merge writes the fields given in patch over st. Nested objects merge
// field by field; arrays are replaced whole.
func (st *UserSettings) merge(patch *UserSettings) {
	b, _ := json.Marshal(patch)
	json.Unmarshal(b, st)
}

// validate checks what the schema cannot: PINs are digits, and a rule that
// forwards to a number has one.
func (st *UserSettings) validate() error {
	if st.VoicemailPIN != nil && !allDigits(*st.VoicemailPIN) {
		return pbx.FieldErrorf("voicemail_pin", "voicemail PIN must be digits")
	}
	var bad []string
	add := func(name, action, number string) {
		if action == "FORWARD_TO_NUMBER" && strings.TrimSpace(number) == "" {
			bad = append(bad, name)
		}
	}
	for name, r := range map[string]*ringForwardRule{
		"available_office_hours_forward_rule": st.AvailableOfficeHoursForwardRule, "available_non_office_hours_forward_rule": st.AvailableNonOfficeHoursForwardRule,
		"busy_office_hours_forward_rule": st.BusyOfficeHoursForwardRule, "busy_non_office_hours_forward_rule": st.BusyNonOfficeHoursForwardRule,
	} {
		if r != nil {
			add(name, r.Action, r.Number)
		}
	}
	for name, r := range map[string]*noAnswerRule{
		"available_no_answer_forward_rule": st.AvailableNoAnswerForwardRule, "busy_no_answer_forward_rule": st.BusyNoAnswerForwardRule,
	} {
		if r != nil {
			add(name, r.Action, r.Number)
		}
	}
	for name, r := range map[string]*forwardRule{
		"dnd_office_hours_forward_rule": st.DNDOfficeHoursForwardRule, "dnd_non_office_hours_forward_rule": st.DNDNonOfficeHoursForwardRule,
		"away_office_hours_forward_rule": st.AwayOfficeHoursForwardRule, "away_non_office_hours_forward_rule": st.AwayNonOfficeHoursForwardRule,
		"lunch_office_hours_forward_rule": st.LunchOfficeHoursForwardRule, "lunch_non_office_hours_forward_rule": st.LunchNonOfficeHoursForwardRule,
		"trip_office_hours_forward_rule": st.TripOfficeHoursForwardRule, "trip_non_office_hours_forward_rule": st.TripNonOfficeHoursForwardRule,
		"offline_office_hours_forward_rule": st.OfflineOfficeHoursForwardRule, "offline_non_office_hours_forward_rule": st.OfflineNonOfficeHoursForwardRule,
	} {
		if r != nil {
			add(name, r.Action, r.Number)
		}
	}
	if st.CustomForwardRules != nil {
		for _, r := range *st.CustomForwardRules {
			add("custom_forward_rules", r.Action, r.Number)
		}
	}
	if len(bad) > 0 {
		// Maps iterate in random order: name the same rule every time.
		slices.Sort(bad)
		return pbx.FieldErrorf(bad[0]+".number", "a rule that forwards to a number needs the number")
	}
	return nil
}

// UserItem is a user in PortSIP's list of users.
type UserItem struct {
	ID              string  `json:"id"`
	Name            string  `json:"name" maxLength:"64"`
	Enabled         bool    `json:"enabled"`
	Email           string  `json:"email" maxLength:"128"`
	DisplayName     string  `json:"display_name" maxLength:"1024"`
	Role            string  `json:"role" maxLength:"64"`
	MobilePhone     *string `json:"mobile_phone" maxLength:"32"`
	WorkPhone       *string `json:"work_phone" maxLength:"32"`
	HomePhone       *string `json:"home_phone" maxLength:"32"`
	Address         *string `json:"address" maxLength:"128"`
	Department      *string `json:"department" maxLength:"128"`
	ExtensionNumber string  `json:"extension_number" maxLength:"64"`
	CreatedAt       *string `json:"created_at" format:"date-time"`
	AvatarFileName  *string `json:"avatar_file_name"`
	AvatarFileSize  *int64  `json:"avatar_file_size"`
	AvatarFileURL   *string `json:"avatar_file_url"`
	SyncType        *string `json:"sync_type" enum:"Microsoft 365"`
}

func newUserItem(u pbx.User) UserItem {
	return UserItem{ID: u.ID.String(), Name: u.Name, Enabled: u.Enabled, Email: u.Email, DisplayName: u.DisplayName,
		Role: string(u.Role), MobilePhone: strOrNil(u.MobilePhone), WorkPhone: strOrNil(u.WorkPhone), HomePhone: strOrNil(u.HomePhone),
		Address: strOrNil(u.Address), Department: strOrNil(u.Department), ExtensionNumber: u.ExtensionNumber, CreatedAt: timeOrNil(u.CreatedAt)}
}

// UserDetail is a user with all its settings. It never carries the web or
// extension password.
type UserDetail struct {
	UserItem
	UserSettings
	Profile *string `json:"profile"`
}

func newUserDetail(u pbx.User) UserDetail {
	return UserDetail{UserItem: newUserItem(u), UserSettings: loadSettings(u.Settings)}
}

// userAudit is what the audit log records of a user: no secrets.
func userAudit(u pbx.User) UserItem { return newUserItem(u) }

// ProfileFields are the personal fields a user may change on itself. The
// optional text fields accept null, which PortSIP answers for blank fields
// and clients send back; null leaves the field as it is.
type ProfileFields struct {
	Email       *string `json:"email,omitempty" maxLength:"128"`
	DisplayName *string `json:"display_name,omitempty" maxLength:"1024"`
	MobilePhone *string `json:"mobile_phone,omitempty" maxLength:"32" nullable:"true"`
	WorkPhone   *string `json:"work_phone,omitempty" maxLength:"32" nullable:"true"`
	HomePhone   *string `json:"home_phone,omitempty" maxLength:"32" nullable:"true"`
	Address     *string `json:"address,omitempty" maxLength:"128" nullable:"true"`
	Department  *string `json:"department,omitempty" maxLength:"128" nullable:"true"`
	UserSettings
}

// apply writes the given fields over u, validating them.
func (f *ProfileFields) apply(u *pbx.User) error {
	if f.Email != nil {
		if err := checkUserEmail(*f.Email); err != nil {
			return err
		}
		u.Email = *f.Email
	}
	if f.DisplayName != nil {
		if strings.TrimSpace(*f.DisplayName) == "" {
			return pbx.FieldErrorf("display_name", "display name must not be empty")
		}
		u.DisplayName = *f.DisplayName
	}
	for _, p := range []struct {
		src *string
		dst *string
	}{{f.MobilePhone, &u.MobilePhone}, {f.WorkPhone, &u.WorkPhone}, {f.HomePhone, &u.HomePhone}, {f.Address, &u.Address}, {f.Department, &u.Department}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	st := loadSettings(u.Settings)
	st.merge(&f.UserSettings)
	if err := st.validate(); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	u.Settings = b
	return nil
}

type createUserInput struct {
	Body struct {
		Name              string  `json:"name" maxLength:"64"`
		Password          string  `json:"password"`
		Email             string  `json:"email" maxLength:"128"`
		DisplayName       string  `json:"display_name" maxLength:"1024"`
		Enabled           *bool   `json:"enabled,omitempty" default:"true"`
		Role              string  `json:"role" maxLength:"64"`
		MobilePhone       *string `json:"mobile_phone,omitempty" maxLength:"32"`
		WorkPhone         *string `json:"work_phone,omitempty" maxLength:"32"`
		HomePhone         *string `json:"home_phone,omitempty" maxLength:"32"`
		Address           *string `json:"address,omitempty" maxLength:"128"`
		Department        *string `json:"department,omitempty" maxLength:"128"`
		ExtensionNumber   string  `json:"extension_number" maxLength:"64"`
		ExtensionPassword string  `json:"extension_password"`
		VoicemailPIN      string  `json:"voicemail_pin" maxLength:"10"`
		UserSettings
	}
}

type updateUserInput struct {
	ID   string `path:"id"`
	Body struct {
		Enabled *bool `json:"enabled,omitempty"`
		ProfileFields
	}
}

type passwordInput struct {
	ID   string `path:"id"`
	Body struct {
		Password string `json:"password"`
	}
}

type roleInput struct {
	ID   string `path:"id"`
	Body struct {
		Role string `json:"role" maxLength:"64"`
	}
}

type userOutput struct{ Body UserDetail }

// userStatus is PortSIP's live status of a user.
type userStatus struct {
	Status       string               `json:"status" enum:"ONLINE,ON_CALL,OFFLINE"`
	Presence     string               `json:"presence" enum:"DO_NOT_DISTURB,AVAILABLE,AWAY,BUSINESS_TRIP,LUNCH,ON_CALL,OFFLINE"`
	PresenceNote *string              `json:"presence_note" maxLength:"128"`
	Registration []registrationStatus `json:"registration"`
	EnableDND    bool                 `json:"enable_dnd"`
	EnableACB    bool                 `json:"enable_acb"`
}

// registrationStatus is one registered contact. Transport and ExpiresAt are
// ours: PortSIP's document has no field for them, and an administrator
// chasing a phone's registration wants both.
type registrationStatus struct {
	InstanceID     string  `json:"instance_id"`
	UserAgent      *string `json:"user_agent"`
	Application    *string `json:"application"`
	IP             string  `json:"ip"`
	EnablePush     bool    `json:"enable_push"`
	ContactAddress string  `json:"contact_address"`
	Transport      string  `json:"transport" enum:"UDP,TCP,TLS,WS,WSS"`
	ExpiresAt      *string `json:"expires_at"`
}

// userLiveStatus is u's status with its live registrations. A binding
// without +sip.instance is named by its ID, which destroy_status accepts too.
func (s *Server) userLiveStatus(ctx context.Context, u pbx.User) (*struct{ Body userStatus }, error) {
	st := loadSettings(u.Settings)
	out := &struct{ Body userStatus }{}
	out.Body = userStatus{Status: "OFFLINE", Presence: "AVAILABLE", Registration: []registrationStatus{},
		EnableDND: st.EnableDND != nil && *st.EnableDND, EnableACB: st.EnableACB != nil && *st.EnableACB}
	reg := s.sipDeps().Registrations
	if reg == nil {
		return out, nil
	}
	bs, err := reg.Bindings(ctx, u.Tenant, u.ID)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		id := b.InstanceID
		if id == "" {
			id = b.ID.String()
		}
		out.Body.Registration = append(out.Body.Registration, registrationStatus{InstanceID: id, UserAgent: strOrNil(b.UserAgent),
			IP: b.Source, ContactAddress: b.Contact, Transport: b.Transport, ExpiresAt: timeOrNil(b.ExpiresAt)})
	}
	if len(bs) > 0 {
		out.Body.Status = "ONLINE"
	}
	return out, nil
}

// reservedNames cannot be user names: they read as system accounts.
var reservedNames = map[string]bool{"admin": true, "system": true, "administrator": true, "root": true}

// checkUserName applies PortSIP's rules for account names: letters, digits
// and _ - ' . only, not starting or ending with a dot, not reserved.
func checkUserName(name string) error {
	if name == "" {
		return pbx.FieldErrorf("name", "name must not be empty")
	}
	if len(name) > 64 {
		return pbx.FieldErrorf("name", "name must have at most 64 characters")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-'.", r)
		if !ok {
			return pbx.FieldErrorf("name", "name may hold only letters, digits and _ - ' .")
		}
	}
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return pbx.FieldErrorf("name", "name must not start or end with a dot")
	}
	if reservedNames[strings.ToLower(name)] {
		return pbx.FieldErrorf("name", "name %q is reserved", name)
	}
	return nil
}

func checkUserEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return pbx.FieldErrorf("email", "not a valid email address")
	}
	return nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// checkExtensionNumber accepts 2 to 64 digits.
func checkExtensionNumber(n string) error {
	if !allDigits(n) || len(n) < 2 || len(n) > 64 {
		return pbx.FieldErrorf("extension_number", "extension number must be 2 to 64 digits")
	}
	return nil
}

// checkRole accepts a built-in tenant role or a custom role of tenant.
func (s *Server) checkRole(ctx context.Context, tenant pbx.TenantID, role string) error {
	for _, r := range pbx.BuiltinTenantRoles() {
		if string(r) == role {
			return nil
		}
	}
	if _, err := s.db.CustomRole(ctx, tenant, pbx.Role(role)); err != nil {
		if pbx.ErrorCode(err) == pbx.ENOTFOUND {
			return pbx.FieldErrorf("role", "unknown role %q", role)
		}
		return err
	}
	return nil
}

// checkExtensionPassword is the policy of SIP passwords.
func checkExtensionPassword(field, pw string) error { return checkPasswordPolicy(field, pw) }

func equalSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// registerUsers serves /users, the tenant's extension users.
func (s *Server) registerUsers() {
	tags := []string{"User"}
	handle(s, huma.Operation{OperationID: "list_users", Method: http.MethodGet, Path: "/users", Tags: tags, Summary: "List users"},
		tenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[UserItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			users, n, err := s.db.ListUsers(ctx, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]UserItem, 0, len(users))
			for _, u := range users {
				items = append(items, newUserItem(u))
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_user", Method: http.MethodPost, Path: "/users", Tags: tags, Summary: "Create a user",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *createUserInput) (*idBody, error) {
			b := &in.Body
			if err := checkUserName(b.Name); err != nil {
				return nil, err
			}
			if err := s.checkUserPassword(ctx, p.scope, "password", b.Password, b.Name, b.ExtensionNumber); err != nil {
				return nil, err
			}
			if err := checkUserEmail(b.Email); err != nil {
				return nil, err
			}
			if strings.TrimSpace(b.DisplayName) == "" {
				return nil, pbx.FieldErrorf("display_name", "display name must not be empty")
			}
			if err := checkExtensionNumber(b.ExtensionNumber); err != nil {
				return nil, err
			}
			if err := checkExtensionPassword("extension_password", b.ExtensionPassword); err != nil {
				return nil, err
			}
			if err := s.checkRole(ctx, p.scope, b.Role); err != nil {
				return nil, err
			}
			if err := s.checkGrantable(ctx, p, pbx.Role(b.Role)); err != nil {
				return nil, err
			}
			u := pbx.User{Name: b.Name, Enabled: b.Enabled == nil || *b.Enabled, Email: b.Email, DisplayName: b.DisplayName, Role: pbx.Role(b.Role),
				ExtensionNumber: b.ExtensionNumber, ExtensionPassword: b.ExtensionPassword}
			b.UserSettings.VoicemailPIN = &b.VoicemailPIN
			f := ProfileFields{MobilePhone: b.MobilePhone, WorkPhone: b.WorkPhone, HomePhone: b.HomePhone, Address: b.Address,
				Department: b.Department, UserSettings: b.UserSettings}
			if err := f.apply(&u); err != nil {
				return nil, err
			}
			hash, err := hashPassword(s.cfg.Hash, b.Password)
			if err != nil {
				return nil, err
			}
			u.PasswordHash = hash
			if err := s.db.CreateUser(ctx, p.scope, &u); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "USER", u.Name, nil, userAudit(u))
			return created(u.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_user", Method: http.MethodGet, Path: "/users/{id}", Tags: tags, Summary: "Retrieve a user"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*userOutput, error) {
			u, err := s.userByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return &userOutput{Body: newUserDetail(u)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_user", Method: http.MethodPost, Path: "/users/{id}", Tags: tags, Summary: "Update a user",
		Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *updateUserInput) (*noContent, error) {
			u, err := s.manageableUser(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			old := u
			b := &in.Body
			if b.Enabled != nil {
				u.Enabled = *b.Enabled
			}
			if err := b.ProfileFields.apply(&u); err != nil {
				return nil, err
			}
			if err := s.db.UpdateUser(ctx, p.scope, &u); err != nil {
				return nil, err
			}
			if old.Enabled && !u.Enabled {
				// A disabled user's sessions end now, not when they expire.
				if err := s.db.DeletePrincipalTokens(ctx, store.PrincipalUser, u.ID); err != nil {
					return nil, err
				}
			}
			s.audit(ctx, p, "UPDATE", "USER", u.Name, userAudit(old), userAudit(u))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_user", Method: http.MethodPost, Path: "/users/{id}/destroy", Tags: tags, Summary: "Delete a user"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			u, err := s.manageableUser(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteUser(ctx, p.scope, u.ID); err != nil {
				return nil, err
			}
			if err := s.db.DeletePrincipalTokens(ctx, store.PrincipalUser, u.ID); err != nil {
				return nil, err
			}
			s.dropRegistrations(ctx, u)
			s.audit(ctx, p, "DELETE", "USER", u.Name, userAudit(u), nil)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "reset_user_password", Method: http.MethodPost, Path: "/users/{id}/password", Tags: tags, Summary: "Reset user password"},
		tenantAdmin, func(ctx context.Context, p *principal, in *passwordInput) (*noContent, error) {
			u, err := s.manageableUser(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.setPassword(ctx, p, &u, in.Body.Password, "password"); err != nil {
				return nil, err
			}
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "reset_user_extension_password", Method: http.MethodPost, Path: "/users/{id}/extension_password", Tags: tags,
		Summary: "Reset user extension password"},
		tenantAdmin, func(ctx context.Context, p *principal, in *passwordInput) (*noContent, error) {
			u, err := s.manageableUser(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.setExtensionPassword(ctx, p, &u, in.Body.Password, "password"); err != nil {
				return nil, err
			}
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "change_user_role", Method: http.MethodPost, Path: "/users/{id}/role", Tags: tags, Summary: "Change user role"},
		tenantAdmin, func(ctx context.Context, p *principal, in *roleInput) (*noContent, error) {
			u, err := s.manageableUser(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.checkRole(ctx, p.scope, in.Body.Role); err != nil {
				return nil, err
			}
			if err := s.checkGrantable(ctx, p, pbx.Role(in.Body.Role)); err != nil {
				return nil, err
			}
			old := u
			if err := s.db.SetUserRole(ctx, p.scope, u.ID, pbx.Role(in.Body.Role)); err != nil {
				return nil, err
			}
			u.Role = pbx.Role(in.Body.Role)
			if old.Role != u.Role {
				// Sessions carry the role they were opened with: end them so
				// that the new role applies at the next login.
				if err := s.db.DeletePrincipalTokens(ctx, store.PrincipalUser, u.ID); err != nil {
					return nil, err
				}
			}
			s.audit(ctx, p, "UPDATE", "USER", u.Name, userAudit(old), userAudit(u))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "get_user_status", Method: http.MethodGet, Path: "/users/{id}/status", Tags: tags, Summary: "Retrieves user current status"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body userStatus }, error) {
			u, err := s.userByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return s.userLiveStatus(ctx, u)
		})
	handle(s, huma.Operation{OperationID: "destroy_user_status", Method: http.MethodPost, Path: "/users/{id}/status/{instance_id}/destroy_status", Tags: tags, Summary: "Delete user registration"},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID         string `path:"id"`
			InstanceID string `path:"instance_id"`
		}) (*noContent, error) {
			u, err := s.userByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			reg := s.sipDeps().Registrations
			if reg == nil {
				return nil, pbx.Errorf(pbx.ENOTFOUND, "registration not found")
			}
			if err := reg.Remove(ctx, u.Tenant, u.ID, in.InstanceID); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "USER", u.Name, map[string]string{"registration": in.InstanceID}, nil)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "reset_user_profile", Method: http.MethodPost, Path: "/users/{id}/profile", Tags: tags, Summary: "Reset user profile"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			// Phone provisioning profiles are not generated yet, so there is
			// nothing to reset; the user must still exist.
			_, err := s.userByPath(ctx, p, in.ID)
			return &noContent{}, err
		})
}

// userByPath returns the user a path ID names in the caller's tenant. A
// malformed ID or another tenant's user is not found.
func (s *Server) userByPath(ctx context.Context, p *principal, raw string) (pbx.User, error) {
	id, err := parseID(raw, "user")
	if err != nil {
		return pbx.User{}, err
	}
	return s.db.User(ctx, p.scope, id)
}

// manageableUser is userByPath for operations that change the user: a
// caller that is itself a tenant user may change only users whose role it
// could give (see checkGrantable).
func (s *Server) manageableUser(ctx context.Context, p *principal, raw string) (pbx.User, error) {
	u, err := s.userByPath(ctx, p, raw)
	if err != nil {
		return pbx.User{}, err
	}
	return u, s.checkGrantable(ctx, p, u.Role)
}

// checkGrantable refuses a tenant user giving, or changing a user of, a role
// with a tenant-wide permission its own role lacks (see
// permissionSet.covers), so that managing users never escalates into more
// than the manager has: user_management.users does not make anyone Admin,
// but may give the standard roles. The built-in Admin role has every permission and
// passes, as do system admins and dealers switched into the tenant.
func (s *Server) checkGrantable(ctx context.Context, p *principal, role pbx.Role) error {
	if !p.isUser() {
		return nil
	}
	grants, err := s.tenantRoleGrants(ctx, p.scope, role)
	if err != nil {
		return err
	}
	if !p.perms.covers(grants) {
		return pbx.Errorf(pbx.EFORBIDDEN, "role %s has permissions you do not have", role)
	}
	return nil
}

// checkUserPassword enforces tenant's password policy on pw, a web
// password of the user with the given name and extension number.
func (s *Server) checkUserPassword(ctx context.Context, tenant pbx.TenantID, field, pw, name, ext string) error {
	t, err := s.db.Tenant(ctx, tenant)
	if err != nil {
		return err
	}
	pp, err := tenantPasswordPolicy(t)
	if err != nil {
		return err
	}
	return checkTenantPassword(pp, field, pw, name, ext)
}

// setPassword checks and stores a new web password for u, ends every
// session of u, and logs the change without the password.
func (s *Server) setPassword(ctx context.Context, p *principal, u *pbx.User, pw, field string) error {
	if err := s.checkUserPassword(ctx, p.scope, field, pw, u.Name, u.ExtensionNumber); err != nil {
		return err
	}
	hash, err := hashPassword(s.cfg.Hash, pw)
	if err != nil {
		return err
	}
	u.PasswordHash = hash
	if err := s.db.SetUserPasswordHash(ctx, p.scope, u.ID, hash); err != nil {
		return err
	}
	if err := s.db.DeletePrincipalTokens(ctx, store.PrincipalUser, u.ID); err != nil {
		return err
	}
	s.audit(ctx, p, "UPDATE", "USER", u.Name, nil, map[string]string{"password": "changed"})
	return nil
}

// setExtensionPassword checks and stores a new SIP password for u.
func (s *Server) setExtensionPassword(ctx context.Context, p *principal, u *pbx.User, pw, field string) error {
	if err := checkExtensionPassword(field, pw); err != nil {
		return err
	}
	u.ExtensionPassword = pw
	if err := s.db.SetUserExtensionPassword(ctx, p.scope, u.ID, pw); err != nil {
		return err
	}
	s.audit(ctx, p, "UPDATE", "USER", u.Name, nil, map[string]string{"extension_password": "changed"})
	return nil
}
