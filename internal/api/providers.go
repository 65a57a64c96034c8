package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// outboundUserPart says what a trunk puts in a user or display-name part of
// an outgoing request.
type outboundUserPart struct {
	Value       string `json:"value,omitempty" enum:"AUTH_ID,CALLER_NUM,CALLED_NUM,CALLER_DISPLAY_NAME,OUTBOUND_CALLER_ID,ORIGINATOR_CALLER_ID,OUTBOUND_CALLER_ID_AND_ORIGINATOR_CALLER_ID,ANONYMOUS,DEFAULT,CUSTOM"`
	CustomValue string `json:"custom_value,omitempty"`
}

// outboundHostPart says what a trunk puts in a host part of an outgoing
// request.
type outboundHostPart struct {
	Value       string `json:"value,omitempty" enum:"TRUNK_HOST_PORT,OUT_HOST_PORT,CONTACT_URI,SIP_DOMAIN,DEFAULT,CUSTOM"`
	CustomValue string `json:"custom_value,omitempty"`
}

// OutboundParameters are a trunk's rewrites of outgoing SIP headers.
type OutboundParameters struct {
	RequestLineUriUserPart               *outboundUserPart `json:"request_line_uri_user_part,omitempty"`
	RequestLineUriHostPart               *outboundHostPart `json:"request_line_uri_host_part,omitempty"`
	ContactUserPart                      *outboundUserPart `json:"contact_user_part,omitempty"`
	ContactHostPart                      *outboundHostPart `json:"contact_host_part,omitempty"`
	ToDisplayName                        *outboundUserPart `json:"to_display_name,omitempty"`
	ToUserPart                           *outboundUserPart `json:"to_user_part,omitempty"`
	ToHostPart                           *outboundHostPart `json:"to_host_part,omitempty"`
	FromDisplayName                      *outboundUserPart `json:"from_display_name,omitempty"`
	FromUserPart                         *outboundUserPart `json:"from_user_part,omitempty"`
	FromHostPart                         *outboundHostPart `json:"from_host_part,omitempty"`
	RemotePartyIdCalledPartyDisplayName  *outboundUserPart `json:"remote_party_id_called_party_display_name,omitempty"`
	RemotePartyIdCalledPartyUserPart     *outboundUserPart `json:"remote_party_id_called_party_user_part,omitempty"`
	RemotePartyIdCalledPartyHostPart     *outboundHostPart `json:"remote_party_id_called_party_host_part,omitempty"`
	RemotePartyIdCallingPartyDisplayName *outboundUserPart `json:"remote_party_id_calling_party_display_name,omitempty"`
	RemotePartyIdCallingPartyUserPart    *outboundUserPart `json:"remote_party_id_calling_party_user_part,omitempty"`
	RemotePartyIdCallingPartyHostPart    *outboundHostPart `json:"remote_party_id_calling_party_host_part,omitempty"`
	PAssertedIdentityDisplayName         *outboundUserPart `json:"p_asserted_identity_display_name,omitempty"`
	PAssertedIdentityUserPart            *outboundUserPart `json:"p_asserted_identity_user_part,omitempty"`
	PAssertedIdentityHostPart            *outboundHostPart `json:"p_asserted_identity_host_part,omitempty"`
	PPreferredIdentifyDisplayName        *outboundUserPart `json:"p_preferred_identify_display_name,omitempty"`
	PPreferredIdentifyUserPart           *outboundUserPart `json:"p_preferred_identify_user_part,omitempty"`
	PPreferredIdentifyHostPart           *outboundHostPart `json:"p_preferred_identify_host_part,omitempty"`
	PCalledPartyIdDisplayName            *outboundUserPart `json:"p_called_party_id_display_name,omitempty"`
	PCalledPartyIdUserPart               *outboundUserPart `json:"p_called_party_id_user_part,omitempty"`
	PCalledPartyIdHostPart               *outboundHostPart `json:"p_called_party_id_host_part,omitempty"`
	PrivacyTypesSupported                string            `json:"privacy_types_supported,omitempty" enum:"DEFAULT,NONE,ID,USER,HEADER,SESSION"`
}

// InboundParameters say where a trunk's incoming requests carry the caller
// and called numbers.
type InboundParameters struct {
	CallerNum                       string   `json:"caller_num,omitempty" enum:"REQUEST_LINE_URI_USER_PART,CONTACT_USER_PART,TO_DISPLAY_NAME,TO_USER_PART,FROM_DISPLAY_NAME,FROM_USER_PART,REMOTE_PARTY_ID_CALLED_PARTY_DISPLAY_NAME,REMOTE_PARTY_ID_CALLED_PARTY_USER_PART,REMOTE_PARTY_ID_CALLING_PARTY_DISPLAY_NAME,REMOTE_PARTY_ID_CALLING_PARTY_USER_PART,P_ASSERTED_IDENTITY_DISPLAY_NAME,P_ASSERTED_IDENTITY_USER_PART,P_PREFERRED_IDENTIFY_DISPLAY_NAME,P_PREFERRED_IDENTIFY_USER_PART,P_CALLED_PARTY_ID_DISPLAY_NAME,P_CALLED_PARTY_ID_USER_PART,DEFAULT"`
	CallerDisplayName               string   `json:"caller_display_name,omitempty" enum:"REQUEST_LINE_URI_USER_PART,CONTACT_USER_PART,TO_DISPLAY_NAME,TO_USER_PART,FROM_DISPLAY_NAME,FROM_USER_PART,REMOTE_PARTY_ID_CALLED_PARTY_DISPLAY_NAME,REMOTE_PARTY_ID_CALLED_PARTY_USER_PART,REMOTE_PARTY_ID_CALLING_PARTY_DISPLAY_NAME,REMOTE_PARTY_ID_CALLING_PARTY_USER_PART,P_ASSERTED_IDENTITY_DISPLAY_NAME,P_ASSERTED_IDENTITY_USER_PART,P_PREFERRED_IDENTIFY_DISPLAY_NAME,P_PREFERRED_IDENTIFY_USER_PART,P_CALLED_PARTY_ID_DISPLAY_NAME,P_CALLED_PARTY_ID_USER_PART,DEFAULT"`
	CalledNum                       string   `json:"called_num,omitempty" enum:"REQUEST_LINE_URI_USER_PART,CONTACT_USER_PART,TO_DISPLAY_NAME,TO_USER_PART,FROM_DISPLAY_NAME,FROM_USER_PART,REMOTE_PARTY_ID_CALLED_PARTY_DISPLAY_NAME,REMOTE_PARTY_ID_CALLED_PARTY_USER_PART,REMOTE_PARTY_ID_CALLING_PARTY_DISPLAY_NAME,REMOTE_PARTY_ID_CALLING_PARTY_USER_PART,P_ASSERTED_IDENTITY_DISPLAY_NAME,P_ASSERTED_IDENTITY_USER_PART,P_PREFERRED_IDENTIFY_DISPLAY_NAME,P_PREFERRED_IDENTIFY_USER_PART,P_CALLED_PARTY_ID_DISPLAY_NAME,P_CALLED_PARTY_ID_USER_PART,DEFAULT"`
	PrivacyTypesSupported           string   `json:"privacy_types_supported,omitempty" enum:"DEFAULT,NONE,ID,USER,HEADER,SESSION"`
	EnableStirShakenValidation      bool     `json:"enable_stir_shaken_validation,omitempty"`
	PAIHeaderParameterName          string   `json:"pai_header_parameter_name,omitempty"`
	DropCallsWithVerificationStatus []string `json:"drop_calls_with_verification_status,omitempty"`
	PassAPIHeaderToUAD              bool     `json:"pass_api_header_to_uad,omitempty"`
}

// ProviderSettings are a trunk's SIP settings beyond the columns lists
// filter on; the store keeps them as this object in JSON. The password is
// not among them: PortSIP never returns it.
type ProviderSettings struct {
	AuthMode                    string             `json:"auth_mode" enum:"IP_AUTH,REGISTER_AUTH,ACCEPT_REGISTER,TEAMS,WHATS_APP"`
	Transport                   string             `json:"transport" enum:"UDP,TCP,TLS"`
	AuthID                      string             `json:"auth_id" maxLength:"64"`
	Username                    string             `json:"username" maxLength:"64"`
	Registration                bool               `json:"registration"`
	RegisterInterval            int                `json:"register_interval" minimum:"0"`
	OutboundServer              string             `json:"outbound_server"`
	OutboundServerPort          int                `json:"outbound_server_port" minimum:"0" maximum:"65535"`
	Inlan                       bool               `json:"inlan"`
	SingleViaHeader             bool               `json:"single_via_header"`
	RewriteViaIP                bool               `json:"rewrite_via_ip"`
	VerifyPort                  bool               `json:"verify_port"`
	KeepAlive                   bool               `json:"keep_alive"`
	KeepAliveInterval           int                `json:"keep_alive_interval" minimum:"0"`
	Concurrency                 int                `json:"concurrency" minimum:"0"`
	AdditionalIPs               string             `json:"additional_ips"`
	AdjustSDPDirection          bool               `json:"adjust_sdp_direction"`
	RemoveSRTPInfo              bool               `json:"remove_srtp_info"`
	StirShakenSignatureRequired bool               `json:"stir_shaken_signature_required"`
	InboundParameters           InboundParameters  `json:"inbound_parameters"`
	OutboundParameters          OutboundParameters `json:"outbound_parameters"`
}

// defaultProviderSettings are PortSIP's defaults for a new trunk.
func defaultProviderSettings() ProviderSettings {
	return ProviderSettings{AuthMode: "IP_AUTH", Registration: true, RegisterInterval: 600, SingleViaHeader: true,
		RewriteViaIP: true, VerifyPort: true, KeepAlive: true, KeepAliveInterval: 360, AdjustSDPDirection: true,
		RemoveSRTPInfo: true, InboundParameters: InboundParameters{PAIHeaderParameterName: "verstat"}}
}

// ProviderItem is a trunk in PortSIP's list of providers.
type ProviderItem struct {
	ID         string  `json:"id"`
	Name       string  `json:"name" maxLength:"64"`
	Enabled    bool    `json:"enabled"`
	Brand      *string `json:"brand" maxLength:"64"`
	Hostname   string  `json:"hostname"`
	Port       int     `json:"port" minimum:"0" maximum:"65535"`
	DIDNumbers *string `json:"did_numbers"`
	Shared     bool    `json:"shared"`
}

type providerDetail struct {
	ProviderItem
	ProviderSettings
}

func newProviderDetail(p store.Provider) providerDetail {
	d := providerDetail{ProviderItem: ProviderItem{ID: p.ID.String(), Name: p.Name, Enabled: p.Enabled, Brand: strOrNil(p.Brand),
		Hostname: p.Hostname, Port: p.Port, DIDNumbers: strOrNil(p.DIDNumbers), Shared: p.Shared}}
	d.ProviderSettings = defaultProviderSettings()
	json.Unmarshal(p.Settings, &d.ProviderSettings)
	return d
}

// ProviderFields are the fields of a trunk an update may change.
type ProviderFields struct {
	Name                        *string             `json:"name,omitempty" maxLength:"64"`
	Enabled                     *bool               `json:"enabled,omitempty"`
	Transport                   *string             `json:"transport,omitempty" enum:"UDP,TCP,TLS"`
	Hostname                    *string             `json:"hostname,omitempty"`
	Port                        *int                `json:"port,omitempty" minimum:"0" maximum:"65535"`
	AuthID                      *string             `json:"auth_id,omitempty" maxLength:"64"`
	Username                    *string             `json:"username,omitempty" maxLength:"64"`
	Password                    *string             `json:"password,omitempty"`
	Registration                *bool               `json:"registration,omitempty"`
	RegisterInterval            *int                `json:"register_interval,omitempty" minimum:"0"`
	OutboundServer              *string             `json:"outbound_server,omitempty"`
	OutboundServerPort          *int                `json:"outbound_server_port,omitempty" minimum:"0" maximum:"65535"`
	Inlan                       *bool               `json:"inlan,omitempty"`
	SingleViaHeader             *bool               `json:"single_via_header,omitempty"`
	RewriteViaIP                *bool               `json:"rewrite_via_ip,omitempty"`
	VerifyPort                  *bool               `json:"verify_port,omitempty"`
	KeepAlive                   *bool               `json:"keep_alive,omitempty"`
	KeepAliveInterval           *int                `json:"keep_alive_interval,omitempty" minimum:"0"`
	Concurrency                 *int                `json:"concurrency,omitempty" minimum:"0"`
	AdditionalIPs               *string             `json:"additional_ips,omitempty"`
	AdjustSDPDirection          *bool               `json:"adjust_sdp_direction,omitempty"`
	RemoveSRTPInfo              *bool               `json:"remove_srtp_info,omitempty"`
	StirShakenSignatureRequired *bool               `json:"stir_shaken_signature_required,omitempty"`
	DIDNumbers                  *string             `json:"did_numbers,omitempty"`
	InboundParameters           *InboundParameters  `json:"inbound_parameters,omitempty"`
	OutboundParameters          *OutboundParameters `json:"outbound_parameters,omitempty"`
}

type providerCreate struct {
	ProviderFields
	Brand    *string `json:"brand,omitempty" maxLength:"64"`
	AuthMode *string `json:"auth_mode,omitempty" enum:"IP_AUTH,REGISTER_AUTH,ACCEPT_REGISTER,TEAMS,WHATS_APP"`
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// apply writes the given fields over p and its settings st.
func (f *ProviderFields) apply(p *store.Provider, st *ProviderSettings) {
	if f.Name != nil {
		p.Name = strings.TrimSpace(*f.Name)
	}
	if f.Hostname != nil {
		p.Hostname = strings.TrimSpace(*f.Hostname)
	}
	setIf(&p.Enabled, f.Enabled)
	setIf(&p.Port, f.Port)
	setIf(&p.Password, f.Password)
	setIf(&p.DIDNumbers, f.DIDNumbers)
	setIf(&st.Transport, f.Transport)
	setIf(&st.AuthID, f.AuthID)
	setIf(&st.Username, f.Username)
	setIf(&st.Registration, f.Registration)
	setIf(&st.RegisterInterval, f.RegisterInterval)
	setIf(&st.OutboundServer, f.OutboundServer)
	setIf(&st.OutboundServerPort, f.OutboundServerPort)
	setIf(&st.Inlan, f.Inlan)
	setIf(&st.SingleViaHeader, f.SingleViaHeader)
	setIf(&st.RewriteViaIP, f.RewriteViaIP)
	setIf(&st.VerifyPort, f.VerifyPort)
	setIf(&st.KeepAlive, f.KeepAlive)
	setIf(&st.KeepAliveInterval, f.KeepAliveInterval)
	setIf(&st.Concurrency, f.Concurrency)
	setIf(&st.AdditionalIPs, f.AdditionalIPs)
	setIf(&st.AdjustSDPDirection, f.AdjustSDPDirection)
	setIf(&st.RemoveSRTPInfo, f.RemoveSRTPInfo)
	setIf(&st.StirShakenSignatureRequired, f.StirShakenSignatureRequired)
	setIf(&st.InboundParameters, f.InboundParameters)
	setIf(&st.OutboundParameters, f.OutboundParameters)
}

// checkProvider validates a trunk as a whole and stores st into p.
func checkProvider(p *store.Provider, st ProviderSettings) error {
	switch {
	case p.Name == "":
		return pbx.FieldErrorf("name", "name is required")
	case p.Hostname == "":
		return pbx.FieldErrorf("hostname", "hostname is required")
	case st.Transport == "":
		return pbx.FieldErrorf("transport", "transport is required")
	case st.OutboundServer == "":
		return pbx.FieldErrorf("outbound_server", "outbound_server is required")
	case st.AuthMode == "REGISTER_AUTH" && st.Username == "" && st.AuthID == "":
		return pbx.FieldErrorf("username", "a REGISTER_AUTH trunk needs a username or auth_id")
	}
	if strings.ContainsAny(p.Hostname, " \t;<>@") {
		return pbx.FieldErrorf("hostname", "want a host name or IP address")
	}
	if strings.ContainsAny(st.OutboundServer, " \t;<>@") {
		return pbx.FieldErrorf("outbound_server", "want a host name or IP address")
	}
	for _, ip := range splitList(st.AdditionalIPs) {
		if _, err := store.ParsePrefix(ip); err != nil {
			return pbx.FieldErrorf("additional_ips", "%q is not an IP address or CIDR", ip)
		}
	}
	for _, n := range splitList(p.DIDNumbers) {
		if !numberish(n, true) {
			return pbx.FieldErrorf("did_numbers", "%q is not a number or range of numbers", n)
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	p.Settings = b
	return nil
}

// splitList splits a PortSIP list field on commas, semicolons and blanks.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' })
}

// numberish reports whether s looks like a dialled number: digits with an
// optional leading '+', and '*' or '#'; with ranges, also "100-199".
func numberish(s string, ranges bool) bool {
	if ranges {
		if lo, hi, ok := strings.Cut(s, "-"); ok {
			return numberish(lo, false) && numberish(hi, false)
		}
	}
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '*' && r != '#' {
			return false
		}
	}
	return true
}

type providerAssignee struct {
	TenantID    string  `json:"tenant_id"`
	DIDNumbers  *string `json:"did_numbers"`
	Concurrency int     `json:"concurrency" minimum:"0"`
}

type providerAssignment struct {
	DIDNumbers  *string `json:"did_numbers"`
	Concurrency int     `json:"concurrency" minimum:"0"`
}

type assigneeInput struct {
	ID     string `path:"id"`
	Tenant string `path:"tenant_id"`
}

// systemOrTenantAdmin reads trunks: the system admin sees them all, and a
// tenant's admins see those assigned to the tenant.
var systemOrTenantAdmin access = func(p *principal) bool { return system(p) || tenantAdmin(p) }

// registerProviders serves /providers, the system's SIP trunks, and their
// assignment to tenants. Only the system admin changes them.
func (s *Server) registerProviders() {
	tags := []string{"Trunk"}
	handle(s, huma.Operation{OperationID: "list_providers", Method: http.MethodGet, Path: "/providers", Tags: tags, Summary: "List providers"},
		systemOrTenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[ProviderItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			ps, n, err := s.db.ListProviders(ctx, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]ProviderItem, 0, len(ps))
			for _, pr := range ps {
				d, err := s.providerView(ctx, p.scope, pr)
				if err != nil {
					return nil, err
				}
				items = append(items, d.ProviderItem)
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_provider", Method: http.MethodPost, Path: "/providers", Tags: tags, Summary: "Create a provider",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict}},
		system, func(ctx context.Context, p *principal, in *struct{ Body providerCreate }) (*idBody, error) {
			b := in.Body
			for field, missing := range map[string]bool{"name": b.Name == nil, "transport": b.Transport == nil, "hostname": b.Hostname == nil,
				"port": b.Port == nil, "outbound_server": b.OutboundServer == nil, "outbound_server_port": b.OutboundServerPort == nil,
				"concurrency": b.Concurrency == nil} {
				if missing {
					return nil, pbx.FieldErrorf(field, "%s is required", field)
				}
			}
			pr := store.Provider{Enabled: true}
			st := defaultProviderSettings()
			setIf(&pr.Brand, b.Brand)
			setIf(&st.AuthMode, b.AuthMode)
			b.apply(&pr, &st)
			if err := checkProvider(&pr, st); err != nil {
				return nil, err
			}
			if err := s.db.CreateProvider(ctx, &pr); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "PROVIDER", pr.Name, nil, newProviderDetail(pr))
			return created(pr.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_provider", Method: http.MethodGet, Path: "/providers/{id}", Tags: tags, Summary: "Retrieve a provider"},
		systemOrTenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body providerDetail }, error) {
			id, err := parseID(in.ID, "provider")
			if err != nil {
				return nil, err
			}
			pr, err := s.db.Provider(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			d, err := s.providerView(ctx, p.scope, pr)
			if err != nil {
				return nil, err
			}
			return &struct{ Body providerDetail }{Body: d}, nil
		})
	handle(s, huma.Operation{OperationID: "get_provider_status", Method: http.MethodGet, Path: "/providers/{id}/status", Tags: tags, Summary: "Query provider status"},
		systemOrTenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body providerStatus }, error) {
			id, err := parseID(in.ID, "provider")
			if err != nil {
				return nil, err
			}
			pr, err := s.db.Provider(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			return &struct{ Body providerStatus }{Body: s.providerStatus(pr)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_provider", Method: http.MethodPost, Path: "/providers/{id}", Tags: tags, Summary: "Update provider",
		Errors: []int{http.StatusConflict}},
		system, func(ctx context.Context, p *principal, in *struct {
			ID   string `path:"id"`
			Body ProviderFields
		}) (*noContent, error) {
			pr, err := s.providerByPath(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			old := newProviderDetail(pr)
			st := old.ProviderSettings
			in.Body.apply(&pr, &st)
			if err := checkProvider(&pr, st); err != nil {
				return nil, err
			}
			if err := s.db.UpdateProvider(ctx, &pr); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "PROVIDER", pr.Name, old, newProviderDetail(pr))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_provider", Method: http.MethodPost, Path: "/providers/{id}/destroy", Tags: tags, Summary: "Delete a provider"},
		system, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			pr, err := s.providerByPath(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteProvider(ctx, pr.ID); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "PROVIDER", pr.Name, newProviderDetail(pr), nil)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "list_provider_assignees", Method: http.MethodGet, Path: "/providers/{id}/assignees", Tags: tags, Summary: "List provider assignees"},
		system, func(ctx context.Context, p *principal, in *pathID) (*struct {
			Body struct {
				Items []providerAssignee `json:"items"`
			}
		}, error) {
			id, err := parseID(in.ID, "provider")
			if err != nil {
				return nil, err
			}
			as, err := s.db.ProviderAssignees(ctx, id)
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Items []providerAssignee `json:"items"`
				}
			}{}
			out.Body.Items = make([]providerAssignee, 0, len(as))
			for _, a := range as {
				out.Body.Items = append(out.Body.Items, providerAssignee{TenantID: a.Tenant.String(), DIDNumbers: strOrNil(a.DIDNumbers), Concurrency: a.Concurrency})
			}
			return out, nil
		})
	handle(s, huma.Operation{OperationID: "get_provider_assignee", Method: http.MethodGet, Path: "/providers/{id}/assignees/{tenant_id}", Tags: tags, Summary: "Check provider assignee"},
		system, func(ctx context.Context, p *principal, in *assigneeInput) (*struct{ Body providerAssignment }, error) {
			id, tn, err := parseAssignee(in)
			if err != nil {
				return nil, err
			}
			a, err := s.db.ProviderAssignee(ctx, id, tn)
			if err != nil {
				return nil, err
			}
			return &struct{ Body providerAssignment }{Body: providerAssignment{DIDNumbers: strOrNil(a.DIDNumbers), Concurrency: a.Concurrency}}, nil
		})
	handle(s, huma.Operation{OperationID: "assign_provider", Method: http.MethodPost, Path: "/providers/{id}/assignees/{tenant_id}", Tags: tags, Summary: "Assign provider"},
		system, func(ctx context.Context, p *principal, in *struct {
			ID     string `path:"id"`
			Tenant string `path:"tenant_id"`
			Body   struct {
				DIDNumbers  *string `json:"did_numbers,omitempty"`
				Concurrency *int    `json:"concurrency,omitempty" minimum:"0"`
			}
		}) (*noContent, error) {
			id, tn, err := parseAssignee(&assigneeInput{ID: in.ID, Tenant: in.Tenant})
			if err != nil {
				return nil, err
			}
			a := store.ProviderAssignee{Provider: id, Tenant: tn}
			if old, err := s.db.ProviderAssignee(ctx, id, tn); err == nil {
				a = old
			}
			setIf(&a.DIDNumbers, in.Body.DIDNumbers)
			setIf(&a.Concurrency, in.Body.Concurrency)
			for _, n := range splitList(a.DIDNumbers) {
				if !numberish(n, true) {
					return nil, pbx.FieldErrorf("did_numbers", "%q is not a number or range of numbers", n)
				}
			}
			pr, err := s.db.Provider(ctx, pbx.SystemTenant, id)
			if err != nil {
				return nil, err
			}
			if err := s.db.AssignProvider(ctx, a); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "PROVIDER", pr.Name, nil, map[string]any{"assigned_tenant": tn.String(), "did_numbers": a.DIDNumbers, "concurrency": a.Concurrency})
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_provider_assignee", Method: http.MethodPost, Path: "/providers/{id}/assignees/{tenant_id}/destroy", Tags: tags,
		Summary: "Destroy a provider assignee"},
		system, func(ctx context.Context, p *principal, in *assigneeInput) (*noContent, error) {
			id, tn, err := parseAssignee(in)
			if err != nil {
				return nil, err
			}
			pr, err := s.db.Provider(ctx, pbx.SystemTenant, id)
			if err != nil {
				return nil, err
			}
			if err := s.db.UnassignProvider(ctx, id, tn); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "PROVIDER", pr.Name, nil, map[string]any{"unassigned_tenant": tn.String()})
			return &noContent{}, nil
		})
}

// providerView renders a trunk as tenant sees it. A tenant sees its own
// assignment's DID numbers and concurrency, not the trunk's, which may name
// other tenants' numbers.
func (s *Server) providerView(ctx context.Context, tenant pbx.TenantID, pr store.Provider) (providerDetail, error) {
	d := newProviderDetail(pr)
	if tenant == pbx.SystemTenant {
		return d, nil
	}
	a, err := s.db.ProviderAssignee(ctx, pr.ID, tenant)
	if err != nil {
		return providerDetail{}, err
	}
	d.DIDNumbers, d.Concurrency = strOrNil(a.DIDNumbers), a.Concurrency
	return d, nil
}

// providerByPath returns the provider a path ID names, as the system sees it.
func (s *Server) providerByPath(ctx context.Context, raw string) (store.Provider, error) {
	id, err := parseID(raw, "provider")
	if err != nil {
		return store.Provider{}, err
	}
	return s.db.Provider(ctx, pbx.SystemTenant, id)
}

func parseAssignee(in *assigneeInput) (pbx.ID, pbx.TenantID, error) {
	id, err := parseID(in.ID, "provider")
	if err != nil {
		return 0, 0, err
	}
	tn, err := pbx.ParseTenantID(in.Tenant)
	if err != nil {
		return 0, 0, pbx.Errorf(pbx.ENOTFOUND, "tenant not found")
	}
	return id, tn, nil
}

// providerStatus is GET /providers/{id}/status: PortSIP's ONLINE or
// OFFLINE, and what lies behind it.
type providerStatus struct {
	Status             string     `json:"status" enum:"ONLINE,OFFLINE"`
	RegistrationStatus string     `json:"registration_status" enum:"REGISTERED,UNREGISTERED,FAILED,DISABLED,NOT_APPLICABLE"`
	LastError          *string    `json:"last_error"`
	LastStatusCode     *int       `json:"last_status_code"`
	ExpiresAt          *time.Time `json:"expires_at"`
	LiveCalls          int        `json:"live_calls"`
}

// providerStatus reports a trunk's live state; without a SIP side (or for
// a trunk it does not run) the trunk is OFFLINE.
func (s *Server) providerStatus(pr store.Provider) providerStatus {
	out := providerStatus{Status: "OFFLINE", RegistrationStatus: "UNREGISTERED"}
	if !pr.Enabled {
		out.RegistrationStatus = "DISABLED"
	}
	t := s.sipDeps().Trunks
	if t == nil {
		return out
	}
	st, ok := t.TrunkStatus(pr.ID)
	if !ok {
		return out
	}
	if st.Online {
		out.Status = "ONLINE"
	}
	if st.Registration != "" {
		out.RegistrationStatus = st.Registration
	}
	out.LastError = strOrNil(st.LastError)
	if st.LastStatusCode != 0 {
		out.LastStatusCode = &st.LastStatusCode
	}
	if !st.ExpiresAt.IsZero() {
		e := st.ExpiresAt.UTC()
		out.ExpiresAt = &e
	}
	out.LiveCalls = st.LiveCalls
	return out
}
