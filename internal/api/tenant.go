package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
)

// passwordPolicy is a tenant's rules for its users' passwords, as
// /tenant/password_policy shows them, stored as JSON in
// pbx.Tenant.PasswordPolicy.
type passwordPolicy struct {
	MinLength                   int  `json:"min_length" minimum:"6" maximum:"32" default:"6"`
	MaxLength                   int  `json:"max_length" minimum:"6" maximum:"32" default:"32"`
	ContainsLetters             bool `json:"contains_letters" default:"true"`
	ContainsNumbers             bool `json:"contains_numbers" default:"true"`
	ContainsSpecialLetters      bool `json:"contains_special_letters" default:"true"`
	DisableSequentialCharacters bool `json:"disable_sequential_characters" default:"true"`
	DisableRepeatingCharacters  bool `json:"disable_repeating_characters" default:"true"`
	DisableAccountInformation   bool `json:"disable_account_information" default:"true"`
}

// passwordPolicyPatch is passwordPolicy in an update: only present fields change.
type passwordPolicyPatch struct {
	MinLength                   *int  `json:"min_length,omitempty" minimum:"6" maximum:"32"`
	MaxLength                   *int  `json:"max_length,omitempty" minimum:"6" maximum:"32"`
	ContainsLetters             *bool `json:"contains_letters,omitempty"`
	ContainsNumbers             *bool `json:"contains_numbers,omitempty"`
	ContainsSpecialLetters      *bool `json:"contains_special_letters,omitempty"`
	DisableSequentialCharacters *bool `json:"disable_sequential_characters,omitempty"`
	DisableRepeatingCharacters  *bool `json:"disable_repeating_characters,omitempty"`
	DisableAccountInformation   *bool `json:"disable_account_information,omitempty"`
}

func defaultPasswordPolicy() passwordPolicy {
	return passwordPolicy{MinLength: 6, MaxLength: 32, ContainsLetters: true, ContainsNumbers: true, ContainsSpecialLetters: true,
		DisableSequentialCharacters: true, DisableRepeatingCharacters: true, DisableAccountInformation: true}
}

// tenantPasswordPolicy returns t's policy over PortSIP's defaults.
func tenantPasswordPolicy(t pbx.Tenant) (passwordPolicy, error) {
	pp := defaultPasswordPolicy()
	if len(t.PasswordPolicy) > 0 {
		if err := json.Unmarshal(t.PasswordPolicy, &pp); err != nil {
			return pp, fmt.Errorf("tenant %s password policy: %w", t.ID, err)
		}
	}
	return pp, nil
}

func (pp *passwordPolicy) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"min_length", pp.MinLength}, {"max_length", pp.MaxLength}} {
		if f.v < 6 || f.v > 32 {
			return pbx.FieldErrorf(f.name, "%s must be between 6 and 32", f.name)
		}
	}
	if pp.MinLength > pp.MaxLength {
		return pbx.FieldErrorf("min_length", "min_length must not exceed max_length")
	}
	return nil
}

type tenantStatus struct {
	Version                string        `json:"version"`
	LicensedUsers          int           `json:"licensed_users"`
	CurrentUsers           int           `json:"current_users"`
	OnlineUsers            int           `json:"online_users"`
	CurrentCalls           int           `json:"current_calls"`
	CurrentQueues          int           `json:"current_queues"`
	CurrentConferenceRooms int           `json:"current_conference_rooms"`
	CurrentRingGroups      int           `json:"current_ring_groups"`
	CurrentIVRs            int           `json:"current_ivrs"`
	CurrentTrunks          int           `json:"current_trunks"`
	CallsIn24Hours         []callsInHour `json:"calls_in_24_hours"`
}

// callsInHour is one point of the calls-in-24-hours chart.
type callsInHour struct {
	Time  string `json:"time"`
	Count int    `json:"count"`
}

type tenantSelfInput struct {
	Body tenantSelfBody
}

// registerTenant serves /tenant: the tenant the caller acts in, for its
// admins and for a system admin or dealer that switched into it.
func (s *Server) registerTenant() {
	tags := []string{"Tenant"}
	handle(s, huma.Operation{OperationID: "get_current_tenant", Method: http.MethodGet, Path: "/tenant", Tags: tags, Summary: "Retrieve current configurations"},
		tenantAdmin, func(ctx context.Context, p *principal, _ *struct{}) (*tenantSelfOutput, error) {
			t, err := s.db.Tenant(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			st, err := tenantView(t)
			if err != nil {
				return nil, err
			}
			return &tenantSelfOutput{Body: st.selfItem()}, nil
		})
	handle(s, huma.Operation{OperationID: "update_current_tenant", Method: http.MethodPost, Path: "/tenant", Tags: tags, Summary: "Update a tenant"},
		tenantAdmin, func(ctx context.Context, p *principal, in *tenantSelfInput) (*noContent, error) {
			t, err := s.db.Tenant(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			return &noContent{}, s.updateTenant(ctx, p, t, &in.Body)
		})
	handle(s, huma.Operation{OperationID: "get_current_tenant_status", Method: http.MethodGet, Path: "/tenant/status", Tags: tags, Summary: "Retrieve current tenant status"},
		tenantAdmin, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body tenantStatus }, error) {
			t, err := s.db.Tenant(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			n, err := s.db.CountUsers(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			return &struct{ Body tenantStatus }{Body: tenantStatus{Version: s.cfg.Version, LicensedUsers: t.MaxExtensions,
				CurrentUsers: n, CallsIn24Hours: []callsInHour{}}}, nil
		})
	handle(s, huma.Operation{OperationID: "get_password_policy", Method: http.MethodGet, Path: "/tenant/password_policy", Tags: tags,
		Summary: "Retrieve tenant password policy"},
		tenantAdmin, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body passwordPolicy }, error) {
			t, err := s.db.Tenant(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			pp, err := tenantPasswordPolicy(t)
			if err != nil {
				return nil, err
			}
			return &struct{ Body passwordPolicy }{Body: pp}, nil
		})
	handle(s, huma.Operation{OperationID: "update_password_policy", Method: http.MethodPost, Path: "/tenant/password_policy", Tags: tags,
		Summary: "Update tenant password policy"},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body passwordPolicyPatch }) (*noContent, error) {
			t, err := s.db.Tenant(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			old, err := tenantPasswordPolicy(t)
			if err != nil {
				return nil, err
			}
			pp := old
			if err := mergePatch(&pp, &in.Body); err != nil {
				return nil, err
			}
			if err := pp.validate(); err != nil {
				return nil, err
			}
			if t.PasswordPolicy, err = json.Marshal(pp); err != nil {
				return nil, fmt.Errorf("password policy: %w", err)
			}
			if err := s.db.UpdateTenant(ctx, &t); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "TENANT", t.Name, old, pp)
			return &noContent{}, nil
		})
}
