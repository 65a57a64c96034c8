package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	// The embedded time zone database backs the timezone check, so that a
	// host without tzdata does not refuse valid zones.
	_ "time/tzdata"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// The PortSIP tenant fields. Those with a column of their own (name, domain,
// enabled, website, timezone, currency, region, max_extensions,
// max_concurrent_calls) live in pbx.Tenant; the rest are tenantStored,
// stored as JSON in pbx.Tenant.Settings. Requests decode into structs of
// pointers so that an update changes only the fields present; mergePatch then
// copies them onto the stored view. The structs that requests embed are
// exported because huma flattens only exported embedded structs.

// nullText is text that PortSIP shows as null when it is blank.
type nullText string

// MarshalJSON renders a blank value as null.
func (n nullText) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(n))
}

// Schema describes nullText as a string that may be null.
func (nullText) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Nullable: true}
}

// tenantTimeRange is one span of office hours, "HH:MM" to "HH:MM".
type tenantTimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// tenantCallerID is an outbound caller ID the tenant may present on a trunk.
type tenantCallerID struct {
	ProviderID  string `json:"provider_id"`
	CallerID    string `json:"caller_id" maxLength:"64"`
	Description string `json:"description,omitempty" maxLength:"1024"`
}

// TenantCommon holds the tenant settings that both the system (/tenants/{id}) and the
// tenant itself (/tenant) may change.
type TenantCommon struct {
	EnableVideoRecording          bool        `json:"enable_video_recording" default:"false"`
	EnableAudioRecording          bool        `json:"enable_audio_recording" default:"false"`
	EnableDualTrackRecording      bool        `json:"enable_dual_track_recording" default:"false"`
	EnableNightMode               bool        `json:"enable_night_mode" default:"false"`
	EnableTwoFactorAuthentication bool        `json:"enable_two_factor_authentication" default:"false"`
	CustomOptions                 nullText    `json:"custom_options"`
	RecordingRetention            int         `json:"recording_retention" minimum:"1" default:"180"`
	CallReportRetention           int         `json:"call_report_retention" minimum:"1" default:"30"`
	LogRetention                  int         `json:"log_retention" minimum:"1" default:"180"`
	TempFileRetention             int         `json:"temp_file_retention" minimum:"1" default:"30"`
	ExtensionIMDiskQuota          string      `json:"extension_im_disk_quota" default:"1GB"`
	OfficeHours                   tenantHours `json:"office_hours"`
	E164                          e164Config  `json:"e164"`
	CDREvent                      eventHook   `json:"cdr_event"`
	ExtensionEvent                eventHook   `json:"extension_event"`
	ContactMatchType              string      `json:"contact_match_type" enum:"DISABLE,MATCH_EXACTLY,MATCH_LENGTH" default:"MATCH_EXACTLY"`
	ContactMatchLength            int         `json:"contact_match_length" minimum:"0"`
	ContactAppendType             string      `json:"contact_append_type" enum:"DISABLE,APPEND,PREPEND" default:"APPEND"`
	ContactUpdateInterval         int         `json:"contact_update_interval" minimum:"1" maximum:"43200" default:"720"`
	PasswordForceReset            bool        `json:"password_force_reset" default:"false"`
}

// defaultTenantCommon returns PortSIP's defaults.
func defaultTenantCommon() TenantCommon {
	return TenantCommon{
		RecordingRetention:    180,
		CallReportRetention:   30,
		LogRetention:          180,
		TempFileRetention:     30,
		ExtensionIMDiskQuota:  "1GB",
		ContactMatchType:      "MATCH_EXACTLY",
		ContactAppendType:     "APPEND",
		ContactUpdateInterval: 720,
		OfficeHours:           defaultTenantHours(),
		E164:                  defaultE164(),
		CDREvent:              defaultEventHook(),
		ExtensionEvent:        defaultEventHook(),
	}
}

func defaultTenantHours() tenantHours {
	d := func() tenantDay { return tenantDay{Ranges: []tenantTimeRange{}} }
	return tenantHours{d(), d(), d(), d(), d(), d(), d()}
}

// TenantCommonCreate is TenantCommon in a create request: every field is optional and takes
// PortSIP's default.
type TenantCommonCreate struct {
	EnableVideoRecording          *bool             `json:"enable_video_recording,omitempty" default:"false"`
	EnableAudioRecording          *bool             `json:"enable_audio_recording,omitempty" default:"false"`
	EnableDualTrackRecording      *bool             `json:"enable_dual_track_recording,omitempty" default:"false"`
	EnableNightMode               *bool             `json:"enable_night_mode,omitempty" default:"false"`
	EnableTwoFactorAuthentication *bool             `json:"enable_two_factor_authentication,omitempty" default:"false"`
	CustomOptions                 *string           `json:"custom_options,omitempty"`
	RecordingRetention            *int              `json:"recording_retention,omitempty" minimum:"1" default:"180"`
	CallReportRetention           *int              `json:"call_report_retention,omitempty" minimum:"1" default:"30"`
	LogRetention                  *int              `json:"log_retention,omitempty" minimum:"1" default:"180"`
	TempFileRetention             *int              `json:"temp_file_retention,omitempty" minimum:"1" default:"30"`
	ExtensionIMDiskQuota          *string           `json:"extension_im_disk_quota,omitempty" default:"1GB"`
	OfficeHours                   *tenantHoursPatch `json:"office_hours,omitempty"`
	E164                          *e164Patch        `json:"e164,omitempty"`
	CDREvent                      *eventHookPatch   `json:"cdr_event,omitempty"`
	ExtensionEvent                *eventHookPatch   `json:"extension_event,omitempty"`
	ContactMatchType              *string           `json:"contact_match_type,omitempty" enum:"DISABLE,MATCH_EXACTLY,MATCH_LENGTH" default:"MATCH_EXACTLY"`
	ContactMatchLength            *int              `json:"contact_match_length,omitempty" minimum:"0"`
	ContactAppendType             *string           `json:"contact_append_type,omitempty" enum:"DISABLE,APPEND,PREPEND" default:"APPEND"`
	ContactUpdateInterval         *int              `json:"contact_update_interval,omitempty" minimum:"1" maximum:"43200" default:"720"`
	PasswordForceReset            *bool             `json:"password_force_reset,omitempty" default:"false"`
}

// TenantCommonPatch is TenantCommon in an update request: only present fields change.
type TenantCommonPatch struct {
	EnableVideoRecording          *bool             `json:"enable_video_recording,omitempty"`
	EnableAudioRecording          *bool             `json:"enable_audio_recording,omitempty"`
	EnableDualTrackRecording      *bool             `json:"enable_dual_track_recording,omitempty"`
	EnableNightMode               *bool             `json:"enable_night_mode,omitempty"`
	EnableTwoFactorAuthentication *bool             `json:"enable_two_factor_authentication,omitempty"`
	CustomOptions                 *string           `json:"custom_options,omitempty"`
	RecordingRetention            *int              `json:"recording_retention,omitempty" minimum:"1"`
	CallReportRetention           *int              `json:"call_report_retention,omitempty" minimum:"1"`
	LogRetention                  *int              `json:"log_retention,omitempty" minimum:"1"`
	TempFileRetention             *int              `json:"temp_file_retention,omitempty" minimum:"1"`
	ExtensionIMDiskQuota          *string           `json:"extension_im_disk_quota,omitempty"`
	OfficeHours                   *tenantHoursPatch `json:"office_hours,omitempty"`
	E164                          *e164Patch        `json:"e164,omitempty"`
	CDREvent                      *eventHookPatch   `json:"cdr_event,omitempty"`
	ExtensionEvent                *eventHookPatch   `json:"extension_event,omitempty"`
	ContactMatchType              *string           `json:"contact_match_type,omitempty" enum:"DISABLE,MATCH_EXACTLY,MATCH_LENGTH"`
	ContactMatchLength            *int              `json:"contact_match_length,omitempty" minimum:"0"`
	ContactAppendType             *string           `json:"contact_append_type,omitempty" enum:"DISABLE,APPEND,PREPEND"`
	ContactUpdateInterval         *int              `json:"contact_update_interval,omitempty" minimum:"1" maximum:"43200"`
	PasswordForceReset            *bool             `json:"password_force_reset,omitempty"`
}

// TenantQuotasCreate holds, in a create request, what only the system admin or a
// dealer may set: enablement, features and limits.
type TenantQuotasCreate struct {
	Enabled                      *bool   `json:"enabled,omitempty" default:"true"`
	EnableBilling                *bool   `json:"enable_billing,omitempty" default:"false"`
	EnableFeatureBilling         *bool   `json:"enable_feature_billing,omitempty" default:"false"`
	EnableFeatureCallStatistics  *bool   `json:"enable_feature_call_statistics,omitempty" default:"true"`
	EnableFeatureContactCenter   *bool   `json:"enable_feature_contact_center,omitempty" default:"true"`
	EnableFeatureMessageChannels *bool   `json:"enable_feature_message_channels,omitempty" default:"true"`
	EnableFeatureMicrosoftTeams  *bool   `json:"enable_feature_microsoft_teams,omitempty" default:"true"`
	EnableFeatureTrunks          *bool   `json:"enable_feature_trunks,omitempty" default:"true"`
	EnableFeatureWhatsApp        *bool   `json:"enable_feature_whats_app,omitempty" default:"true"`
	MaxExtensions                *int    `json:"max_extensions,omitempty" minimum:"0" default:"1000"`
	MaxConcurrentCalls           *int    `json:"max_concurrent_calls,omitempty" minimum:"0" default:"20"`
	MaxRingGroups                *int    `json:"max_ring_groups,omitempty" minimum:"0" default:"20"`
	MaxVirtualReceptionists      *int    `json:"max_virtual_receptionists,omitempty" minimum:"0" default:"20"`
	MaxCallQueues                *int    `json:"max_call_queues,omitempty" minimum:"0" default:"20"`
	MaxConferenceRooms           *int    `json:"max_conference_rooms,omitempty" minimum:"0" default:"20"`
	DiskQuota                    *string `json:"disk_quota,omitempty"`
	IMDiskQuota                  *string `json:"im_disk_quota,omitempty"`
	EmailRecipients              *string `json:"email_recipients,omitempty"`
}

// TenantQuotasPatch is TenantQuotasCreate in an update request.
type TenantQuotasPatch struct {
	Enabled                      *bool   `json:"enabled,omitempty"`
	EnableBilling                *bool   `json:"enable_billing,omitempty"`
	EnableFeatureBilling         *bool   `json:"enable_feature_billing,omitempty"`
	EnableFeatureCallStatistics  *bool   `json:"enable_feature_call_statistics,omitempty"`
	EnableFeatureContactCenter   *bool   `json:"enable_feature_contact_center,omitempty"`
	EnableFeatureMessageChannels *bool   `json:"enable_feature_message_channels,omitempty"`
	EnableFeatureMicrosoftTeams  *bool   `json:"enable_feature_microsoft_teams,omitempty"`
	EnableFeatureTrunks          *bool   `json:"enable_feature_trunks,omitempty"`
	EnableFeatureWhatsApp        *bool   `json:"enable_feature_whats_app,omitempty"`
	MaxExtensions                *int    `json:"max_extensions,omitempty" minimum:"0"`
	MaxConcurrentCalls           *int    `json:"max_concurrent_calls,omitempty" minimum:"0"`
	MaxRingGroups                *int    `json:"max_ring_groups,omitempty" minimum:"0"`
	MaxVirtualReceptionists      *int    `json:"max_virtual_receptionists,omitempty" minimum:"0"`
	MaxCallQueues                *int    `json:"max_call_queues,omitempty" minimum:"0"`
	MaxConferenceRooms           *int    `json:"max_conference_rooms,omitempty" minimum:"0"`
	DiskQuota                    *string `json:"disk_quota,omitempty"`
	IMDiskQuota                  *string `json:"im_disk_quota,omitempty"`
	EmailRecipients              *string `json:"email_recipients,omitempty"`
}

// TenantLocationPatch holds the identity fields of a tenant in an update request.
type TenantLocationPatch struct {
	Domain   *string `json:"domain,omitempty" maxLength:"280"`
	Website  *string `json:"website,omitempty" maxLength:"255"`
	Timezone *string `json:"timezone,omitempty" doc:"IANA time zone, such as America/New_York"`
	Currency *string `json:"currency,omitempty"`
	Region   *string `json:"region,omitempty"`
}

// e164Config is how a tenant normalises numbers to E.164.
type e164Config struct {
	Enabled                  bool     `json:"enabled" default:"false"`
	InternationalCode        nullText `json:"international_code"`
	Country                  nullText `json:"country"`
	AreaCode                 nullText `json:"area_code"`
	NationalCode             nullText `json:"national_code"`
	Prefix                   nullText `json:"prefix"`
	RemoveSpecialChars       bool     `json:"remove_special_chars" default:"false"`
	RemoveDuplicateCountries bool     `json:"remove_duplicate_countries" default:"true"`
	RemoveDuplicateAreaCodes bool     `json:"remove_duplicate_area_codes" default:"true"`
}

// e164Patch is e164Config in a request.
type e164Patch struct {
	Enabled                  *bool   `json:"enabled,omitempty"`
	InternationalCode        *string `json:"international_code,omitempty"`
	Country                  *string `json:"country,omitempty"`
	AreaCode                 *string `json:"area_code,omitempty"`
	NationalCode             *string `json:"national_code,omitempty"`
	Prefix                   *string `json:"prefix,omitempty"`
	RemoveSpecialChars       *bool   `json:"remove_special_chars,omitempty"`
	RemoveDuplicateCountries *bool   `json:"remove_duplicate_countries,omitempty"`
	RemoveDuplicateAreaCodes *bool   `json:"remove_duplicate_area_codes,omitempty"`
}

// eventHook is a webhook a tenant sends CDR or extension events to.
type eventHook struct {
	Enabled  bool     `json:"enabled" default:"false"`
	Auth     string   `json:"auth" enum:"DISABLE,BASIC,DIGEST,BEARER" default:"DISABLE"`
	Username nullText `json:"username" maxLength:"64"`
	Password nullText `json:"password" maxLength:"64"`
	Token    nullText `json:"token"`
	URL      nullText `json:"url" maxLength:"128"`
}

// eventHookPatch is eventHook in a request.
type eventHookPatch struct {
	Enabled  *bool   `json:"enabled,omitempty"`
	Auth     *string `json:"auth,omitempty" enum:"DISABLE,BASIC,DIGEST,BEARER"`
	Username *string `json:"username,omitempty" maxLength:"64"`
	Password *string `json:"password,omitempty" maxLength:"64"`
	Token    *string `json:"token,omitempty"`
	URL      *string `json:"url,omitempty" maxLength:"128"`
}

// tenantHours are a tenant's office hours per weekday.
type tenantHours struct {
	Monday    tenantDay `json:"monday"`
	Tuesday   tenantDay `json:"tuesday"`
	Wednesday tenantDay `json:"wednesday"`
	Thursday  tenantDay `json:"thursday"`
	Friday    tenantDay `json:"friday"`
	Saturday  tenantDay `json:"saturday"`
	Sunday    tenantDay `json:"sunday"`
}

// tenantHoursPatch is tenantHours in a request.
type tenantHoursPatch struct {
	Monday    *tenantDayPatch `json:"monday,omitempty"`
	Tuesday   *tenantDayPatch `json:"tuesday,omitempty"`
	Wednesday *tenantDayPatch `json:"wednesday,omitempty"`
	Thursday  *tenantDayPatch `json:"thursday,omitempty"`
	Friday    *tenantDayPatch `json:"friday,omitempty"`
	Saturday  *tenantDayPatch `json:"saturday,omitempty"`
	Sunday    *tenantDayPatch `json:"sunday,omitempty"`
}

// tenantDay is one weekday of office hours.
type tenantDay struct {
	Enabled bool              `json:"enabled"`
	Ranges  []tenantTimeRange `json:"ranges"`
}

// tenantDayPatch is tenantDay in a request.
type tenantDayPatch struct {
	Enabled *bool              `json:"enabled,omitempty"`
	Ranges  *[]tenantTimeRange `json:"ranges,omitempty"`
}

func defaultE164() e164Config {
	return e164Config{
		RemoveDuplicateCountries: true,
		RemoveDuplicateAreaCodes: true,
	}
}

func defaultEventHook() eventHook {
	return eventHook{
		Auth: "DISABLE",
	}
}

// TenantFeatures are the tenant's features and limits beyond the two that
// have columns (max_extensions, max_concurrent_calls).
type TenantFeatures struct {
	EnableBilling                bool   `json:"enable_billing" default:"false"`
	EnableFeatureBilling         bool   `json:"enable_feature_billing" default:"false"`
	EnableFeatureCallStatistics  bool   `json:"enable_feature_call_statistics" default:"true"`
	EnableFeatureContactCenter   bool   `json:"enable_feature_contact_center" default:"true"`
	EnableFeatureMessageChannels bool   `json:"enable_feature_message_channels" default:"true"`
	EnableFeatureMicrosoftTeams  bool   `json:"enable_feature_microsoft_teams" default:"true"`
	EnableFeatureTrunks          bool   `json:"enable_feature_trunks" default:"true"`
	EnableFeatureWhatsApp        bool   `json:"enable_feature_whats_app" default:"true"`
	MaxRingGroups                int    `json:"max_ring_groups" minimum:"0" default:"20"`
	MaxVirtualReceptionists      int    `json:"max_virtual_receptionists" minimum:"0" default:"20"`
	MaxCallQueues                int    `json:"max_call_queues" minimum:"0" default:"20"`
	MaxConferenceRooms           int    `json:"max_conference_rooms" minimum:"0" default:"20"`
	DiskQuota                    string `json:"disk_quota"`
	IMDiskQuota                  string `json:"im_disk_quota"`
}

// tenantStored are the tenant fields stored as JSON in pbx.Tenant.Settings.
type tenantStored struct {
	TenantCommon
	TenantFeatures
	EmailRecipients   nullText         `json:"email_recipients"`
	OutboundCallerIDs []tenantCallerID `json:"outbound_caller_ids"`
	AvatarFileID      nullText         `json:"avatar_file_id"`
	StirShakenCert    nullText         `json:"stir_shaken_cert"`
	StirShakenKey     nullText         `json:"stir_shaken_key"`
}

// tenantState is the whole of a tenant as the API sees it: columns and
// stored settings. Requests merge into it and answers are cut from it; it
// is never itself an answer.
type tenantState struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Domain             string   `json:"domain"`
	Website            nullText `json:"website"`
	Timezone           string   `json:"timezone"`
	Currency           string   `json:"currency"`
	Region             string   `json:"region"`
	Enabled            bool     `json:"enabled"`
	MaxExtensions      int      `json:"max_extensions"`
	MaxConcurrentCalls int      `json:"max_concurrent_calls"`
	tenantStored
	CreatedAt *string `json:"created_at"`
}

// tenantItem is a tenant as GET /tenants/{id} shows it.
type tenantItem struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name" maxLength:"1024"`
	Domain             string   `json:"domain" maxLength:"280"`
	Website            nullText `json:"website" maxLength:"255"`
	Timezone           string   `json:"timezone"`
	Currency           string   `json:"currency"`
	Region             string   `json:"region"`
	Enabled            bool     `json:"enabled" default:"true"`
	MaxExtensions      int      `json:"max_extensions" minimum:"0" default:"1000"`
	MaxConcurrentCalls int      `json:"max_concurrent_calls" minimum:"0" default:"20"`
	TenantCommon
	TenantFeatures
	EmailRecipients   nullText         `json:"email_recipients"`
	OutboundCallerIDs []tenantCallerID `json:"outbound_caller_ids"`
	UsedDiskQuota     nullText         `json:"used_disk_quota"`
	CreatedAt         *string          `json:"created_at"`
	AvatarFileName    nullText         `json:"avatar_file_name"`
	AvatarFileSize    int64            `json:"avatar_file_size"`
	AvatarFileURL     nullText         `json:"avatar_file_url"`
}

// tenantSelfItem is the current tenant as GET /tenant shows it.
type tenantSelfItem struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name" maxLength:"1024"`
	Domain             string   `json:"domain" maxLength:"280"`
	Website            nullText `json:"website" maxLength:"255"`
	Timezone           string   `json:"timezone"`
	Currency           string   `json:"currency"`
	Region             string   `json:"region"`
	MaxExtensions      int      `json:"max_extensions" minimum:"0" default:"1000"`
	MaxConcurrentCalls int      `json:"max_concurrent_calls" minimum:"0" default:"20"`
	TenantCommon
	TenantFeatures
	OutboundCallerIDs []tenantCallerID `json:"outbound_caller_ids"`
	UsedDiskQuota     nullText         `json:"used_disk_quota"`
	AvatarFileName    nullText         `json:"avatar_file_name"`
	AvatarFileSize    int64            `json:"avatar_file_size"`
	AvatarFileURL     nullText         `json:"avatar_file_url"`
	StirShakenCert    nullText         `json:"stir_shaken_cert"`
	StirShakenKey     nullText         `json:"stir_shaken_key"`
}

// tenantListItem is a tenant as GET /tenants lists it.
type tenantListItem struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Domain             string   `json:"domain"`
	MaxExtensions      int      `json:"max_extensions"`
	MaxConcurrentCalls int      `json:"max_concurrent_calls"`
	Enabled            bool     `json:"enabled"`
	Website            nullText `json:"website"`
	Timezone           string   `json:"timezone"`
	Currency           string   `json:"currency"`
	Region             string   `json:"region"`
	AvatarFileName     nullText `json:"avatar_file_name"`
	AvatarFileSize     int64    `json:"avatar_file_size"`
	AvatarFileURL      nullText `json:"avatar_file_url"`
	CreatedAt          *string  `json:"created_at"`
}

func (st *tenantState) item() tenantItem {
	return tenantItem{ID: st.ID, Name: st.Name, Domain: st.Domain, Website: st.Website, Timezone: st.Timezone, Currency: st.Currency,
		Region: st.Region, Enabled: st.Enabled, MaxExtensions: st.MaxExtensions, MaxConcurrentCalls: st.MaxConcurrentCalls,
		TenantCommon: st.TenantCommon, TenantFeatures: st.TenantFeatures, EmailRecipients: st.EmailRecipients,
		OutboundCallerIDs: st.OutboundCallerIDs, CreatedAt: st.CreatedAt}
}

func (st *tenantState) selfItem() tenantSelfItem {
	return tenantSelfItem{ID: st.ID, Name: st.Name, Domain: st.Domain, Website: st.Website, Timezone: st.Timezone, Currency: st.Currency,
		Region: st.Region, MaxExtensions: st.MaxExtensions, MaxConcurrentCalls: st.MaxConcurrentCalls,
		TenantCommon: st.TenantCommon, TenantFeatures: st.TenantFeatures, OutboundCallerIDs: st.OutboundCallerIDs,
		StirShakenCert: st.StirShakenCert, StirShakenKey: st.StirShakenKey}
}

// tenantCreateBody is the body of POST /tenants.
type tenantCreateBody struct {
	Name     string  `json:"name" minLength:"1" maxLength:"1024"`
	Domain   string  `json:"domain" minLength:"1" maxLength:"280" doc:"SIP domain: a host name or the PBX's IP address"`
	Website  *string `json:"website,omitempty" maxLength:"255"`
	Timezone string  `json:"timezone" doc:"IANA time zone, such as America/New_York"`
	Currency string  `json:"currency"`
	Region   string  `json:"region"`
	TenantCommonCreate
	TenantQuotasCreate
}

// tenantUpdateBody is the body of POST /tenants/{id}; PortSIP does not
// rename a tenant there (the tenant itself does, with POST /tenant).
type tenantUpdateBody struct {
	TenantLocationPatch
	TenantCommonPatch
	TenantQuotasPatch
}

// tenantSelfBody is the body of POST /tenant: what a tenant admin may change
// of its own tenant. Limits and features stay with the system.
type tenantSelfBody struct {
	Name *string `json:"name,omitempty" minLength:"1" maxLength:"1024"`
	TenantLocationPatch
	TenantCommonPatch
	OutboundCallerIDs *[]tenantCallerID `json:"outbound_caller_ids,omitempty"`
	AvatarFileID      *string           `json:"avatar_file_id,omitempty"`
	StirShakenCert    *string           `json:"stir_shaken_cert,omitempty"`
	StirShakenKey     *string           `json:"stir_shaken_key,omitempty"`
}

// defaultTenantState is a new tenant before the request applies, with
// PortSIP's defaults.
func defaultTenantState() tenantState {
	return tenantState{Enabled: true, MaxExtensions: 1000, MaxConcurrentCalls: 20,
		tenantStored: tenantStored{
			TenantCommon: defaultTenantCommon(),
			TenantFeatures: TenantFeatures{
				EnableFeatureCallStatistics:  true,
				EnableFeatureContactCenter:   true,
				EnableFeatureMessageChannels: true,
				EnableFeatureMicrosoftTeams:  true,
				EnableFeatureTrunks:          true,
				EnableFeatureWhatsApp:        true,
				MaxRingGroups:                20,
				MaxVirtualReceptionists:      20,
				MaxCallQueues:                20,
				MaxConferenceRooms:           20,
			},
			OutboundCallerIDs: []tenantCallerID{},
		}}
}

// tenantView reads a stored tenant: PortSIP's defaults, then the stored
// settings over them, so that fields added later read as their defaults.
func tenantView(t pbx.Tenant) (tenantState, error) {
	st := defaultTenantState()
	if len(t.Settings) > 0 {
		if err := json.Unmarshal(t.Settings, &st.tenantStored); err != nil {
			return st, fmt.Errorf("tenant %s settings: %w", t.ID, err)
		}
	}
	if st.OutboundCallerIDs == nil {
		st.OutboundCallerIDs = []tenantCallerID{}
	}
	st.ID, st.Name, st.Domain, st.Website = t.ID.String(), t.Name, t.Domain, nullText(t.Website)
	st.Timezone, st.Currency, st.Region = t.Timezone, t.Currency, t.Region
	st.Enabled, st.MaxExtensions, st.MaxConcurrentCalls = t.Enabled, t.MaxExtensions, t.MaxConcurrentCalls
	st.CreatedAt = timeOrNil(t.CreatedAt)
	return st, nil
}

// toTenant writes the view back into t, settings included.
func (it *tenantState) toTenant(t *pbx.Tenant) error {
	settings, err := json.Marshal(it.tenantStored)
	if err != nil {
		return fmt.Errorf("tenant settings: %w", err)
	}
	t.Name, t.Domain, t.Website = strings.TrimSpace(it.Name), strings.ToLower(strings.TrimSpace(it.Domain)), string(it.Website)
	t.Timezone, t.Currency, t.Region = it.Timezone, it.Currency, it.Region
	t.Enabled, t.MaxExtensions, t.MaxConcurrentCalls = it.Enabled, it.MaxExtensions, it.MaxConcurrentCalls
	t.Settings = settings
	return nil
}

// mergePatch copies the fields present in patch (a struct of pointers whose
// absent fields are nil and omitted) onto dst. Nested objects merge field by
// field; arrays are replaced whole.
func mergePatch(dst, patch any) error {
	b, err := json.Marshal(patch)
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	return nil
}

// hostnamePattern matches a SIP domain: DNS labels of letters, digits and hyphens, or
// an IPv4 address, which has the same shape.
var hostnamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// validate checks what the schema cannot. Errors name the field.
func (it *tenantState) validate() error {
	if strings.TrimSpace(it.Name) == "" {
		return pbx.FieldErrorf("name", "name must not be empty")
	}
	if d := strings.ToLower(strings.TrimSpace(it.Domain)); !hostnamePattern.MatchString(d) || len(d) > 280 {
		return pbx.FieldErrorf("domain", "domain must be a host name or IP address (letters, digits, '-' and '.')")
	}
	if tz := it.Timezone; tz == "" || tz == "Local" {
		return pbx.FieldErrorf("timezone", "timezone must be an IANA time zone name")
	} else if _, err := time.LoadLocation(tz); err != nil {
		return pbx.FieldErrorf("timezone", "unknown time zone %q", tz)
	}
	if strings.TrimSpace(it.Currency) == "" {
		return pbx.FieldErrorf("currency", "currency must not be empty")
	}
	if strings.TrimSpace(it.Region) == "" {
		return pbx.FieldErrorf("region", "region must not be empty")
	}
	return nil
}

// redacted is the view without secrets, for the audit log.
func (it tenantState) redacted() tenantState {
	it.CDREvent.Password, it.CDREvent.Token = "", ""
	it.ExtensionEvent.Password, it.ExtensionEvent.Token = "", ""
	it.StirShakenKey = ""
	return it
}

func listTenantItem(t pbx.Tenant) tenantListItem {
	return tenantListItem{ID: t.ID.String(), Name: t.Name, Domain: t.Domain, MaxExtensions: t.MaxExtensions,
		MaxConcurrentCalls: t.MaxConcurrentCalls, Enabled: t.Enabled, Website: nullText(t.Website), Timezone: t.Timezone,
		Currency: t.Currency, Region: t.Region, CreatedAt: timeOrNil(t.CreatedAt)}
}

type tenantOutput struct {
	Body tenantItem
}

type tenantSelfOutput struct {
	Body tenantSelfItem
}

type tenantCreateInput struct {
	Body tenantCreateBody
}

type tenantUpdateInput struct {
	ID   string `path:"id"`
	Body tenantUpdateBody
}

type tenantDealerInput struct {
	ID       string `path:"id"`
	DealerID string `path:"dealer_id"`
}

type tenantDealerItem struct {
	ID          string   `json:"id"`
	Enabled     bool     `json:"enabled"`
	Level       string   `json:"level" enum:"DISTRIBUTOR,SUB_DISTRIBUTOR,RESELLER"`
	Name        string   `json:"name"`
	DisplayName nullText `json:"display_name"`
}

type tenantDealersOutput struct {
	Body struct {
		Items []tenantDealerItem `json:"items"`
	}
}

// registerTenants serves /tenants: the system admin manages every tenant, a
// dealer the tenants assigned to it.
func (s *Server) registerTenants() {
	tags := []string{"Tenant"}
	handle(s, huma.Operation{OperationID: "list_tenants", Method: http.MethodGet, Path: "/tenants", Tags: tags, Summary: "List tenants"},
		systemOrDealer, func(ctx context.Context, p *principal, in *listParams) (*listBody[tenantListItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			var dealer pbx.ID
			if p.isDealer() {
				dealer = p.id
			}
			ts, n, err := s.db.ListTenants(ctx, dealer, opts)
			if err != nil {
				return nil, err
			}
			items := make([]tenantListItem, 0, len(ts))
			for _, t := range ts {
				items = append(items, listTenantItem(t))
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_tenant", Method: http.MethodPost, Path: "/tenants", Tags: tags, Summary: "Create a tenant",
		DefaultStatus: http.StatusCreated},
		systemOrDealer, func(ctx context.Context, p *principal, in *tenantCreateInput) (*idBody, error) {
			it := defaultTenantState()
			if err := mergePatch(&it, &in.Body); err != nil {
				return nil, err
			}
			if err := it.validate(); err != nil {
				return nil, err
			}
			var t pbx.Tenant
			if err := it.toTenant(&t); err != nil {
				return nil, err
			}
			if p.isDealer() {
				d, err := s.db.Dealer(ctx, p.id)
				if err != nil {
					return nil, err
				}
				if err := s.db.CreateDealerTenant(ctx, d.ID, d.MaxTenants, &t); err != nil {
					return nil, err
				}
			} else if err := s.db.CreateTenant(ctx, &t); err != nil {
				return nil, err
			}
			it.ID, it.CreatedAt = t.ID.String(), timeOrNil(t.CreatedAt)
			s.auditSystem(ctx, p, "CREATE", "TENANT", t.Name, nil, it.redacted())
			return created(t.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_tenant", Method: http.MethodGet, Path: "/tenants/{id}", Tags: tags, Summary: "Retrieve a tenant"},
		anyone, func(ctx context.Context, p *principal, in *pathID) (*tenantOutput, error) {
			id, err := parseTenantPath(in.ID)
			if err != nil {
				return nil, err
			}
			t, err := s.tenantVisible(ctx, p, id)
			if err != nil {
				return nil, err
			}
			// A tenant's own users see it only if they administer it.
			if p.isUser() && p.role != pbx.RoleAdmin {
				return nil, errForbidden
			}
			st, err := tenantView(t)
			if err != nil {
				return nil, err
			}
			return &tenantOutput{Body: st.item()}, nil
		})
	handle(s, huma.Operation{OperationID: "update_tenant", Method: http.MethodPost, Path: "/tenants/{id}", Tags: tags, Summary: "Update a tenant"},
		systemOrDealer, func(ctx context.Context, p *principal, in *tenantUpdateInput) (*noContent, error) {
			id, err := parseTenantPath(in.ID)
			if err != nil {
				return nil, err
			}
			t, err := s.tenantVisible(ctx, p, id)
			if err != nil {
				return nil, err
			}
			return &noContent{}, s.updateTenant(ctx, p, t, &in.Body)
		})
	handle(s, huma.Operation{OperationID: "destroy_tenant", Method: http.MethodPost, Path: "/tenants/{id}/destroy", Tags: tags, Summary: "Delete a tenant"},
		systemOrDealer, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			id, err := parseTenantPath(in.ID)
			if err != nil {
				return nil, err
			}
			t, err := s.tenantVisible(ctx, p, id)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteTenant(ctx, t.ID); err != nil {
				return nil, err
			}
			old, _ := tenantView(t)
			s.auditSystem(ctx, p, "DELETE", "TENANT", t.Name, old.redacted(), nil)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "list_tenant_dealers", Method: http.MethodGet, Path: "/tenants/{id}/dealers", Tags: tags,
		Summary: "Retrieve dealer information the tenant belongs"},
		systemOrDealer, func(ctx context.Context, p *principal, in *pathID) (*tenantDealersOutput, error) {
			id, err := parseTenantPath(in.ID)
			if err != nil {
				return nil, err
			}
			if _, err := s.tenantVisible(ctx, p, id); err != nil {
				return nil, err
			}
			ds, err := s.db.TenantDealers(ctx, id)
			if err != nil {
				return nil, err
			}
			out := &tenantDealersOutput{}
			out.Body.Items = []tenantDealerItem{}
			for _, d := range ds {
				out.Body.Items = append(out.Body.Items, tenantDealerItem{ID: d.ID.String(), Enabled: d.Enabled, Level: d.Level,
					Name: d.Name, DisplayName: nullText(d.DisplayName)})
			}
			return out, nil
		})
	handle(s, huma.Operation{OperationID: "designate_tenant_dealer", Method: http.MethodPost, Path: "/tenants/{id}/dealers/{dealer_id}", Tags: tags,
		Summary: "Designate tenant to dealer"},
		system, func(ctx context.Context, p *principal, in *tenantDealerInput) (*noContent, error) {
			t, d, err := s.tenantDealer(ctx, in)
			if err != nil {
				return nil, err
			}
			if err := s.db.AssignTenant(ctx, t.ID, d.ID); err != nil {
				return nil, err
			}
			s.auditSystem(ctx, p, "UPDATE", "TENANT", t.Name, nil, map[string]string{"dealer": d.Name})
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "remove_tenant_dealer", Method: http.MethodPost, Path: "/tenants/{id}/dealers/{dealer_id}/destroy", Tags: tags,
		Summary: "Remove tenant to dealer"},
		system, func(ctx context.Context, p *principal, in *tenantDealerInput) (*noContent, error) {
			t, d, err := s.tenantDealer(ctx, in)
			if err != nil {
				return nil, err
			}
			if err := s.db.UnassignTenant(ctx, t.ID, d.ID); err != nil {
				return nil, err
			}
			s.auditSystem(ctx, p, "UPDATE", "TENANT", t.Name, map[string]string{"dealer": d.Name}, nil)
			return &noContent{}, nil
		})
}

// parseTenantPath parses a tenant ID from a path; a malformed one is not
// found, since no tenant can have it.
func parseTenantPath(s string) (pbx.TenantID, error) {
	id, err := parseID(s, "tenant")
	return pbx.TenantID(id), err
}

func (s *Server) tenantDealer(ctx context.Context, in *tenantDealerInput) (pbx.Tenant, store.Dealer, error) {
	tid, err := parseTenantPath(in.ID)
	if err != nil {
		return pbx.Tenant{}, store.Dealer{}, err
	}
	did, err := parseID(in.DealerID, "dealer")
	if err != nil {
		return pbx.Tenant{}, store.Dealer{}, err
	}
	t, err := s.db.Tenant(ctx, tid)
	if err != nil {
		return t, store.Dealer{}, err
	}
	d, err := s.db.Dealer(ctx, did)
	return t, d, err
}

// updateTenant applies patch to t, validates the result and stores it.
func (s *Server) updateTenant(ctx context.Context, p *principal, t pbx.Tenant, patch any) error {
	old, err := tenantView(t)
	if err != nil {
		return err
	}
	// A second, separate view: decoding a patch's arrays reuses the backing
	// arrays of the slices it decodes into, which would rewrite old.
	it, err := tenantView(t)
	if err != nil {
		return err
	}
	if err := mergePatch(&it, patch); err != nil {
		return err
	}
	if err := it.validate(); err != nil {
		return err
	}
	if err := it.toTenant(&t); err != nil {
		return err
	}
	if err := s.db.UpdateTenant(ctx, &t); err != nil {
		return err
	}
	if old.Enabled && !t.Enabled {
		// A disabled tenant's users cannot log in; their open sessions end too.
		if err := s.db.DeleteTenantTokens(ctx, t.ID); err != nil {
			return err
		}
	}
	if p.scope == t.ID {
		s.audit(ctx, p, "UPDATE", "TENANT", t.Name, old.redacted(), it.redacted())
	} else {
		s.auditSystem(ctx, p, "UPDATE", "TENANT", t.Name, old.redacted(), it.redacted())
	}
	return nil
}
