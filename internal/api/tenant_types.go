package api

import (
	"encoding/json"
	// The embedded time zone database backs the timezone check, so that a
	// host without tzdata does not refuse valid zones.
	_ "time/tzdata"

	"github.com/danielgtaylor/huma/v2"
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
	// AllowedCountryCodes is /allowed_country_codes: the country calling
	// codes international calls may reach (routing reads it).
	AllowedCountryCodes []string `json:"allowed_country_codes"`
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
