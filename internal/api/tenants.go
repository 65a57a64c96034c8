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
			s.removeTenantData(t.ID)
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
