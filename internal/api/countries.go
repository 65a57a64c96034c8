package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
)

// countryCodes is the body of /allowed_country_codes: the country calling
// codes (such as "44" or "+44") that the tenant's international calls may
// reach. An empty list sets no country limit; the callers' role policies
// still decide who may call abroad.
type countryCodes struct {
	Items []string `json:"items" maxItems:"300"`
}

// registerAllowedCountryCodes serves /allowed_country_codes, kept in the
// tenant's settings, which routing compiles with the rest of the tenant.
func (s *Server) registerAllowedCountryCodes() {
	tags := []string{"Security"}
	handle(s, huma.Operation{OperationID: "list_allowed_country_codes", Method: http.MethodGet, Path: "/allowed_country_codes", Tags: tags,
		Summary: "List allowed region or country codes"},
		tenantAdmin, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body countryCodes }, error) {
			t, err := s.db.Tenant(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			st, err := tenantView(t)
			if err != nil {
				return nil, err
			}
			out := countryCodes{Items: st.AllowedCountryCodes}
			if out.Items == nil {
				out.Items = []string{}
			}
			return &struct{ Body countryCodes }{Body: out}, nil
		})
	handle(s, huma.Operation{OperationID: "update_allowed_country_codes", Method: http.MethodPost, Path: "/allowed_country_codes", Tags: tags,
		Summary: "Update allowed region or country codes."},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body countryCodes }) (*noContent, error) {
			codes := make([]string, 0, len(in.Body.Items))
			seen := map[string]bool{}
			for i, c := range in.Body.Items {
				c = strings.TrimSpace(c)
				digits := strings.TrimPrefix(c, "+")
				if digits == "" || len(c) > 32 || !numberish(digits, false) || strings.ContainsAny(digits, "*#+") {
					return nil, pbx.FieldErrorf(fmt.Sprintf("items[%d]", i), "%q is not a country calling code", c)
				}
				if !seen[digits] {
					seen[digits] = true
					codes = append(codes, digits)
				}
			}
			t, err := s.db.Tenant(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			st, err := tenantView(t)
			if err != nil {
				return nil, err
			}
			old := st.AllowedCountryCodes
			st.AllowedCountryCodes = codes
			if err := st.toTenant(&t); err != nil {
				return nil, err
			}
			if err := s.db.UpdateTenant(ctx, &t); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "TENANT", "allowed_country_codes", countryCodes{Items: old}, countryCodes{Items: codes})
			return &noContent{}, nil
		})
}
