package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// adminSettingsName is the setting /admin/settings is stored as.
const adminSettingsName = "admin_settings"

// adminSettings are the system settings of /admin/settings, stored as the
// "admin_settings" setting.
type adminSettings struct {
	UserAgent                            string   `json:"user_agent" maxLength:"1024" default:"PortSIP UC"`
	BlockedUserAgents                    nullText `json:"blocked_user_agents"`
	EnableSharedAddressSpaceAddressRange bool     `json:"enable_shared_address_space_address_range" default:"true"`
	EnableDigestAuth                     bool     `json:"enable_digest_auth" default:"true"`
	EnableAuthMidDialog                  bool     `json:"enable_auth_mid_dialog" default:"false"`
	EnableDigestAuthInt                  bool     `json:"enable_digest_auth_int" default:"false"`
	EnableExternalRecording              bool     `json:"enable_external_recording" default:"true"`
	EnableRejectBadNonce                 bool     `json:"enable_reject_bad_nonce" default:"false"`
	StatisticsLogInterval                int      `json:"statistics_log_interval" minimum:"0" default:"600"`
	DeadSessionTimeout                   int      `json:"dead_session_timeout" minimum:"0" default:"600"`
	EnableSessionTimer                   bool     `json:"enable_session_timer" default:"true"`
	SessionTimerDuration                 int      `json:"session_timer_duration" minimum:"90" maximum:"3600" default:"3600"`
	EnableToTagInRegister                bool     `json:"enable_to_tag_in_register" default:"false"`
	EnableCongestionManagement           bool     `json:"enable_congestion_management" default:"true"`
	CongestionManagementMetric           nullText `json:"congestion_management_metric" enum:"WAIT_TIME,TIME_DEPTH,SIZE"`
	CongestionManagementTolerance        int      `json:"congestion_management_tolerance" minimum:"0" default:"600"`
	EnableCreateNonExistExtension        bool     `json:"enable_create_non_exist_extension" default:"false"`
	EnablePRACK                          bool     `json:"enable_prack" default:"false"`
	EnableTenantLevelTrunk               bool     `json:"enable_tenant_level_trunk" default:"true"`
	EnableDiversionSupport               bool     `json:"enable_diversion_support" default:"false"`
	EnableHistoryInfoSupport             bool     `json:"enable_history_info_support" default:"false"`
	EnableOutboundSupport                bool     `json:"enable_outbound_support" default:"true"`
	FlowTimer                            int      `json:"flow_timer" minimum:"0" default:"0"`
	RegisterExpirationTime               int      `json:"register_expiration_time" minimum:"90" maximum:"3600" default:"300"`
	EnableAutoAnswerAlertInfoHeader      bool     `json:"enable_auto_answer_alert_info_header" default:"false"`
	AutoAnswerAlertInfoHeader            nullText `json:"auto_answer_alert_info_header" enum:"INTERCOM,ALERT_AUTO_ANSWER,AUTO_ANSWER"`
	EnableAutoAnswerCallInfoHeader       bool     `json:"enable_auto_answer_call_info_header" default:"true"`
	EnableRequireAnswerMode              bool     `json:"enable_require_answer_mode" default:"false"`
	EnableWWWAuth                        bool     `json:"enable_www_auth" default:"false"`
	UserEqualRequiredForAuthName         bool     `json:"user_equal_required_for_auth_name" default:"true"`
	TraceServerHost                      nullText `json:"trace_server_host"`
	TraceServerPort                      int      `json:"trace_server_port" minimum:"0" maximum:"65535"`
	WebFailedAuthAmount                  int      `json:"web_failed_auth_amount" minimum:"0" default:"5"`
	WebBlacklistTimeInterval             int      `json:"web_blacklist_time_interval" minimum:"0" default:"3600"`
	SIPFailedAuthAmount                  int      `json:"sip_failed_auth_amount" minimum:"0" default:"50"`
	SIPFailedChallengeRequestsAmount     int      `json:"sip_failed_challenge_requests_amount" minimum:"0" default:"1000"`
	SIPBlacklistTimeInterval             int      `json:"sip_blacklist_time_interval" minimum:"0" default:"3600"`
	SIPDetectionPeriod                   int      `json:"sip_detection_period" minimum:"0" default:"10"`
	SIPBarrier1Packets                   int      `json:"sip_barrier_1_packets" minimum:"0" default:"5000"`
	SIPBarrier1BlockingTime              int      `json:"sip_barrier_1_blocking_time" minimum:"0" default:"3600"`
	SIPBarrier2Packets                   int      `json:"sip_barrier_2_packets" minimum:"0" default:"2000"`
	SIPBarrier2BlockingTime              int      `json:"sip_barrier_2_blocking_time" minimum:"0" default:"30"`
	StirShakenCert                       nullText `json:"stir_shaken_cert"`
	StirShakenKey                        nullText `json:"stir_shaken_key"`
	CustomOptions                        nullText `json:"custom_options"`
}

// adminSettingsPatch is adminSettings in an update: only present fields change.
type adminSettingsPatch struct {
	UserAgent                            *string `json:"user_agent,omitempty" maxLength:"1024"`
	BlockedUserAgents                    *string `json:"blocked_user_agents,omitempty"`
	EnableSharedAddressSpaceAddressRange *bool   `json:"enable_shared_address_space_address_range,omitempty"`
	EnableDigestAuth                     *bool   `json:"enable_digest_auth,omitempty"`
	EnableAuthMidDialog                  *bool   `json:"enable_auth_mid_dialog,omitempty"`
	EnableDigestAuthInt                  *bool   `json:"enable_digest_auth_int,omitempty"`
	EnableExternalRecording              *bool   `json:"enable_external_recording,omitempty"`
	EnableRejectBadNonce                 *bool   `json:"enable_reject_bad_nonce,omitempty"`
	StatisticsLogInterval                *int    `json:"statistics_log_interval,omitempty" minimum:"0"`
	DeadSessionTimeout                   *int    `json:"dead_session_timeout,omitempty" minimum:"0"`
	EnableSessionTimer                   *bool   `json:"enable_session_timer,omitempty"`
	SessionTimerDuration                 *int    `json:"session_timer_duration,omitempty" minimum:"90" maximum:"3600"`
	EnableToTagInRegister                *bool   `json:"enable_to_tag_in_register,omitempty"`
	EnableCongestionManagement           *bool   `json:"enable_congestion_management,omitempty"`
	CongestionManagementMetric           *string `json:"congestion_management_metric,omitempty" enum:"WAIT_TIME,TIME_DEPTH,SIZE"`
	CongestionManagementTolerance        *int    `json:"congestion_management_tolerance,omitempty" minimum:"0"`
	EnableCreateNonExistExtension        *bool   `json:"enable_create_non_exist_extension,omitempty"`
	EnablePRACK                          *bool   `json:"enable_prack,omitempty"`
	EnableTenantLevelTrunk               *bool   `json:"enable_tenant_level_trunk,omitempty"`
	EnableDiversionSupport               *bool   `json:"enable_diversion_support,omitempty"`
	EnableHistoryInfoSupport             *bool   `json:"enable_history_info_support,omitempty"`
	EnableOutboundSupport                *bool   `json:"enable_outbound_support,omitempty"`
	FlowTimer                            *int    `json:"flow_timer,omitempty" minimum:"0"`
	RegisterExpirationTime               *int    `json:"register_expiration_time,omitempty" minimum:"90" maximum:"3600"`
	EnableAutoAnswerAlertInfoHeader      *bool   `json:"enable_auto_answer_alert_info_header,omitempty"`
	AutoAnswerAlertInfoHeader            *string `json:"auto_answer_alert_info_header,omitempty" enum:"INTERCOM,ALERT_AUTO_ANSWER,AUTO_ANSWER"`
	EnableAutoAnswerCallInfoHeader       *bool   `json:"enable_auto_answer_call_info_header,omitempty"`
	EnableRequireAnswerMode              *bool   `json:"enable_require_answer_mode,omitempty"`
	EnableWWWAuth                        *bool   `json:"enable_www_auth,omitempty"`
	UserEqualRequiredForAuthName         *bool   `json:"user_equal_required_for_auth_name,omitempty"`
	TraceServerHost                      *string `json:"trace_server_host,omitempty"`
	TraceServerPort                      *int    `json:"trace_server_port,omitempty" minimum:"0" maximum:"65535"`
	WebFailedAuthAmount                  *int    `json:"web_failed_auth_amount,omitempty" minimum:"0"`
	WebBlacklistTimeInterval             *int    `json:"web_blacklist_time_interval,omitempty" minimum:"0"`
	SIPFailedAuthAmount                  *int    `json:"sip_failed_auth_amount,omitempty" minimum:"0"`
	SIPFailedChallengeRequestsAmount     *int    `json:"sip_failed_challenge_requests_amount,omitempty" minimum:"0"`
	SIPBlacklistTimeInterval             *int    `json:"sip_blacklist_time_interval,omitempty" minimum:"0"`
	SIPDetectionPeriod                   *int    `json:"sip_detection_period,omitempty" minimum:"0"`
	SIPBarrier1Packets                   *int    `json:"sip_barrier_1_packets,omitempty" minimum:"0"`
	SIPBarrier1BlockingTime              *int    `json:"sip_barrier_1_blocking_time,omitempty" minimum:"0"`
	SIPBarrier2Packets                   *int    `json:"sip_barrier_2_packets,omitempty" minimum:"0"`
	SIPBarrier2BlockingTime              *int    `json:"sip_barrier_2_blocking_time,omitempty" minimum:"0"`
	StirShakenCert                       *string `json:"stir_shaken_cert,omitempty"`
	StirShakenKey                        *string `json:"stir_shaken_key,omitempty"`
	CustomOptions                        *string `json:"custom_options,omitempty"`
}

// defaultAdminSettings returns PortSIP's defaults.
func defaultAdminSettings() adminSettings {
	return adminSettings{
		UserAgent:                            "PortSIP UC",
		EnableSharedAddressSpaceAddressRange: true,
		EnableDigestAuth:                     true,
		EnableExternalRecording:              true,
		StatisticsLogInterval:                600,
		DeadSessionTimeout:                   600,
		EnableSessionTimer:                   true,
		SessionTimerDuration:                 3600,
		EnableCongestionManagement:           true,
		CongestionManagementTolerance:        600,
		EnableTenantLevelTrunk:               true,
		EnableOutboundSupport:                true,
		RegisterExpirationTime:               300,
		EnableAutoAnswerCallInfoHeader:       true,
		UserEqualRequiredForAuthName:         true,
		WebFailedAuthAmount:                  5,
		WebBlacklistTimeInterval:             3600,
		SIPFailedAuthAmount:                  50,
		SIPFailedChallengeRequestsAmount:     1000,
		SIPBlacklistTimeInterval:             3600,
		SIPDetectionPeriod:                   10,
		SIPBarrier1Packets:                   5000,
		SIPBarrier1BlockingTime:              3600,
		SIPBarrier2Packets:                   2000,
		SIPBarrier2BlockingTime:              30,
	}
}

type adminPasswordInput struct {
	Body struct {
		OldPassword string `json:"old_password" minLength:"1"`
		NewPassword string `json:"new_password" minLength:"1"`
	}
}

type adminUsernameInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"64"`
	}
}

type adminStatus struct {
	Version                  string        `json:"version"`
	News                     nullText      `json:"news"`
	LicenseKey               nullText      `json:"license_key"`
	LicenseType              nullText      `json:"license_type"`
	MaintenanceExpiresAt     *string       `json:"maintenance_expires_at"`
	MaxConcurrentCalls       int           `json:"max_concurrent_calls"`
	LicensedUsers            int           `json:"licensed_users"`
	CurrentUsers             int           `json:"current_users"`
	OnlineUsers              int           `json:"online_users"`
	CurrentTenants           int           `json:"current_tenants"`
	CurrentDealers           int           `json:"current_dealers"`
	CurrentCalls             int           `json:"current_calls"`
	CurrentTrunks            int           `json:"current_trunks"`
	CurrentConferenceServers int           `json:"current_conference_servers"`
	CurrentMediaServers      int           `json:"current_media_servers"`
	CurrentCallQueueServers  int           `json:"current_call_queue_servers"`
	CurrentIVRServers        int           `json:"current_ivr_servers"`
	CallsIn24Hours           []callsInHour `json:"calls_in_24_hours"`
}

// reservedAccountNames are the names PortSIP keeps for the system admin; no
// dealer may take them, so that a login without a domain is never ambiguous.
var reservedAccountNames = map[string]bool{"admin": true, "system": true, "administrator": true, "root": true}

// registerAdmin serves /admin/*: the system administrator's own account,
// the system settings and the system status.
func (s *Server) registerAdmin() {
	tags := []string{"Administration"}
	handle(s, huma.Operation{OperationID: "reset_admin_password", Method: http.MethodPost, Path: "/admin/password", Tags: tags,
		Summary: "Reset system admin password"},
		system, func(ctx context.Context, p *principal, in *adminPasswordInput) (*noContent, error) {
			a, err := s.db.Admin(ctx, p.id)
			if err != nil {
				return nil, err
			}
			return s.changeOwnPassword(ctx, p, in, ownAccount{hash: &a.PasswordHash, kind: store.PrincipalAdmin, id: a.ID,
				objectType: "SYSTEM", name: a.Name, save: func() error { return s.db.UpdateAdmin(ctx, &a) }})
		})
	handle(s, huma.Operation{OperationID: "change_admin_username", Method: http.MethodPost, Path: "/admin/username", Tags: tags,
		Summary: "Change system admin username"},
		system, func(ctx context.Context, p *principal, in *adminUsernameInput) (*noContent, error) {
			name := strings.TrimSpace(in.Body.Name)
			if err := checkAccountName(name); err != nil {
				return nil, err
			}
			if _, err := s.db.DealerByName(ctx, name); err == nil {
				return nil, &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "name already in use"}
			}
			a, err := s.db.Admin(ctx, p.id)
			if err != nil {
				return nil, err
			}
			old := a.Name
			a.Name = name
			if err := s.db.UpdateAdmin(ctx, &a); err != nil {
				return nil, err
			}
			s.auditSystem(ctx, p, "UPDATE", "SYSTEM", a.Name, map[string]string{"name": old}, map[string]string{"name": a.Name})
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "get_admin_settings", Method: http.MethodGet, Path: "/admin/settings", Tags: tags,
		Summary: "Retrieve system settings"},
		system, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body adminSettings }, error) {
			st, err := s.adminSettings(ctx)
			if err != nil {
				return nil, err
			}
			return &struct{ Body adminSettings }{Body: st}, nil
		})
	handle(s, huma.Operation{OperationID: "update_admin_settings", Method: http.MethodPost, Path: "/admin/settings", Tags: tags,
		Summary: "Update system settings"},
		system, func(ctx context.Context, p *principal, in *struct{ Body adminSettingsPatch }) (*noContent, error) {
			old, err := s.adminSettings(ctx)
			if err != nil {
				return nil, err
			}
			st := old
			if err := mergePatch(&st, &in.Body); err != nil {
				return nil, err
			}
			if err := s.db.SetSetting(ctx, adminSettingsName, st); err != nil {
				return nil, err
			}
			old.StirShakenKey, st.StirShakenKey = "", ""
			s.auditSystem(ctx, p, "UPDATE", "SYSTEM", "settings", old, st)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "get_admin_status", Method: http.MethodGet, Path: "/admin/status", Tags: tags,
		Summary: "Retrieve current system status"},
		system, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body adminStatus }, error) {
			c, err := s.db.Count(ctx)
			if err != nil {
				return nil, err
			}
			return &struct{ Body adminStatus }{Body: adminStatus{Version: s.cfg.Version, CurrentUsers: c.Users,
				CurrentTenants: c.Tenants, CurrentDealers: c.Dealers, CallsIn24Hours: []callsInHour{}}}, nil
		})
}

// adminSettings returns the stored system settings over PortSIP's defaults.
func (s *Server) adminSettings(ctx context.Context) (adminSettings, error) {
	st := defaultAdminSettings()
	err := s.db.Setting(ctx, adminSettingsName, &st)
	return st, err
}

// checkAccountName enforces PortSIP's rules for system account names:
// letters, digits and _ - ' . without a leading or trailing dot.
func checkAccountName(name string) error {
	if name == "" || len(name) > 64 {
		return pbx.FieldErrorf("name", "name must have 1 to 64 characters")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-'.", r)) {
			return pbx.FieldErrorf("name", "name may hold letters, digits and _ - ' . only")
		}
	}
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return pbx.FieldErrorf("name", "name must not start or end with a dot")
	}
	return nil
}

// auditSystem records a change of a system object (a tenant, dealer or the
// system itself) in the system's audit log, even when the caller has
// switched into a tenant.
func (s *Server) auditSystem(ctx context.Context, p *principal, action, objectType, objectName string, old, new any) {
	sys := *p
	sys.scope = pbx.SystemTenant
	s.audit(ctx, &sys, action, objectType, objectName, old, new)
}

// ownAccount is the account a principal changes its own password of: its
// stored hash, how to save it, and what the audit log names.
type ownAccount struct {
	hash       *string
	kind       store.PrincipalKind
	id         pbx.ID
	objectType string
	name       string
	save       func() error
}

// changeOwnPassword is /admin/password and /dealer/password: the old
// password must match, the new one pass the policy; then every session of
// the account ends, this one too, so that it logs in again with the new
// password.
func (s *Server) changeOwnPassword(ctx context.Context, p *principal, in *adminPasswordInput, a ownAccount) (*noContent, error) {
	if !checkPassword(*a.hash, in.Body.OldPassword) {
		return nil, pbx.FieldErrorf("old_password", "the old password is wrong")
	}
	if err := checkPasswordPolicy("new_password", in.Body.NewPassword); err != nil {
		return nil, err
	}
	h, err := hashPassword(s.cfg.Hash, in.Body.NewPassword)
	if err != nil {
		return nil, err
	}
	*a.hash = h
	if err := a.save(); err != nil {
		return nil, err
	}
	s.auditSystem(ctx, p, "UPDATE", a.objectType, a.name, nil, map[string]string{"password": "changed"})
	if err := s.db.DeletePrincipalTokens(ctx, a.kind, a.id); err != nil {
		return nil, err
	}
	return &noContent{}, nil
}
