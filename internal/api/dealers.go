package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// dealerItem is a dealer as /dealers shows it; the password never leaves.
type dealerItem struct {
	ID               string   `json:"id"`
	Enabled          bool     `json:"enabled" default:"true"`
	Level            string   `json:"level" enum:"DISTRIBUTOR,SUB_DISTRIBUTOR,RESELLER"`
	Name             string   `json:"name" maxLength:"64"`
	Email            nullText `json:"email" maxLength:"128"`
	DisplayName      nullText `json:"display_name" maxLength:"1024"`
	Website          nullText `json:"website"`
	Phone            nullText `json:"phone" maxLength:"32"`
	Address          nullText `json:"address" maxLength:"128"`
	Description      nullText `json:"description"`
	MaxTenants       int      `json:"max_tenants" minimum:"0" default:"100"`
	MaxExtensions    int      `json:"max_extensions" minimum:"0" default:"50000"`
	TenantFullAccess bool     `json:"tenant_full_access" default:"true"`
}

func newDealerItem(d store.Dealer) dealerItem {
	return dealerItem{ID: d.ID.String(), Enabled: d.Enabled, Level: d.Level, Name: d.Name, Email: nullText(d.Email),
		DisplayName: nullText(d.DisplayName), Website: nullText(d.Website), Phone: nullText(d.Phone), Address: nullText(d.Address),
		Description: nullText(d.Description), MaxTenants: d.MaxTenants, MaxExtensions: d.MaxExtensions, TenantFullAccess: d.TenantFullAccess}
}

// DealerFields are the optional fields of a dealer that both create and
// update take; only present fields change.
type DealerFields struct {
	Email       *string `json:"email,omitempty" maxLength:"128"`
	DisplayName *string `json:"display_name,omitempty" maxLength:"1024"`
	Website     *string `json:"website,omitempty"`
	Phone       *string `json:"phone,omitempty" maxLength:"32"`
	Address     *string `json:"address,omitempty" maxLength:"128"`
	Description *string `json:"description,omitempty"`
}

func (f *DealerFields) apply(d *store.Dealer) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&d.Email, f.Email)
	set(&d.DisplayName, f.DisplayName)
	set(&d.Website, f.Website)
	set(&d.Phone, f.Phone)
	set(&d.Address, f.Address)
	set(&d.Description, f.Description)
}

type dealerCreateInput struct {
	Body struct {
		Enabled  *bool  `json:"enabled,omitempty" default:"true"`
		Level    string `json:"level" enum:"DISTRIBUTOR,SUB_DISTRIBUTOR,RESELLER"`
		Name     string `json:"name" minLength:"1" maxLength:"64"`
		Password string `json:"password" minLength:"1"`
		DealerFields
		// Required, as PortSIP has them; pointers so that an explicit 0 is
		// not taken for absent.
		MaxTenants       *int  `json:"max_tenants" minimum:"0" default:"100"`
		MaxExtensions    *int  `json:"max_extensions" minimum:"0" default:"50000"`
		TenantFullAccess *bool `json:"tenant_full_access,omitempty" default:"true"`
	}
}

type dealerUpdateInput struct {
	ID   string `path:"id"`
	Body struct {
		Enabled *bool `json:"enabled,omitempty"`
		DealerFields
		MaxTenants       *int  `json:"max_tenants,omitempty" minimum:"0"`
		MaxExtensions    *int  `json:"max_extensions,omitempty" minimum:"0"`
		TenantFullAccess *bool `json:"tenant_full_access,omitempty"`
	}
}

type dealerPasswordInput struct {
	ID   string `path:"id"`
	Body struct {
		Password string `json:"password" minLength:"1"`
	}
}

// registerDealers serves /dealers, which only the system admin manages.
func (s *Server) registerDealers() {
	tags := []string{"Administration"}
	handle(s, huma.Operation{OperationID: "list_dealers", Method: http.MethodGet, Path: "/dealers", Tags: tags, Summary: "List dealers"},
		system, func(ctx context.Context, p *principal, in *listParams) (*listBody[dealerItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			ds, n, err := s.db.ListDealers(ctx, opts)
			if err != nil {
				return nil, err
			}
			items := make([]dealerItem, 0, len(ds))
			for _, d := range ds {
				items = append(items, newDealerItem(d))
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_dealer", Method: http.MethodPost, Path: "/dealers", Tags: tags, Summary: "Create a dealer",
		DefaultStatus: http.StatusCreated},
		system, func(ctx context.Context, p *principal, in *dealerCreateInput) (*idBody, error) {
			b := &in.Body
			name := strings.TrimSpace(b.Name)
			if err := checkAccountName(name); err != nil {
				return nil, err
			}
			if reservedAccountNames[strings.ToLower(name)] {
				return nil, pbx.FieldErrorf("name", "%q is reserved", name)
			}
			if _, err := s.db.AdminByName(ctx, name); err == nil {
				return nil, &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "name already in use"}
			}
			if err := checkPasswordPolicy("password", b.Password); err != nil {
				return nil, err
			}
			d := store.Dealer{Name: name, Enabled: true, Level: b.Level, MaxTenants: 100, MaxExtensions: 50000, TenantFullAccess: true}
			if b.Enabled != nil {
				d.Enabled = *b.Enabled
			}
			if b.MaxTenants != nil {
				d.MaxTenants = *b.MaxTenants
			}
			if b.MaxExtensions != nil {
				d.MaxExtensions = *b.MaxExtensions
			}
			if b.TenantFullAccess != nil {
				d.TenantFullAccess = *b.TenantFullAccess
			}
			b.DealerFields.apply(&d)
			var err error
			if d.PasswordHash, err = hashPassword(s.cfg.Hash, b.Password); err != nil {
				return nil, err
			}
			if err := s.db.CreateDealer(ctx, &d); err != nil {
				return nil, err
			}
			s.auditSystem(ctx, p, "CREATE", "DEALER", d.Name, nil, newDealerItem(d))
			return created(d.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_dealer", Method: http.MethodGet, Path: "/dealers/{id}", Tags: tags, Summary: "Retrieve a dealer"},
		system, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body dealerItem }, error) {
			d, err := s.dealer(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body dealerItem }{Body: newDealerItem(d)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_dealer", Method: http.MethodPost, Path: "/dealers/{id}", Tags: tags, Summary: "Update a dealer"},
		system, func(ctx context.Context, p *principal, in *dealerUpdateInput) (*noContent, error) {
			d, err := s.dealer(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			old := newDealerItem(d)
			b := &in.Body
			if b.Enabled != nil {
				d.Enabled = *b.Enabled
			}
			if b.MaxTenants != nil {
				d.MaxTenants = *b.MaxTenants
			}
			if b.MaxExtensions != nil {
				d.MaxExtensions = *b.MaxExtensions
			}
			if b.TenantFullAccess != nil {
				d.TenantFullAccess = *b.TenantFullAccess
			}
			b.DealerFields.apply(&d)
			if err := s.db.UpdateDealer(ctx, &d); err != nil {
				return nil, err
			}
			if !d.Enabled {
				// A disabled dealer cannot log in; its open sessions end too.
				if err := s.db.DeletePrincipalTokens(ctx, store.PrincipalDealer, d.ID); err != nil {
					return nil, err
				}
			}
			s.auditSystem(ctx, p, "UPDATE", "DEALER", d.Name, old, newDealerItem(d))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "destroy_dealer", Method: http.MethodPost, Path: "/dealers/{id}/destroy", Tags: tags, Summary: "Delete a dealer"},
		system, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			d, err := s.dealer(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteDealer(ctx, d.ID); err != nil {
				return nil, err
			}
			s.auditSystem(ctx, p, "DELETE", "DEALER", d.Name, newDealerItem(d), nil)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "reset_dealer_password", Method: http.MethodPost, Path: "/dealers/{id}/password", Tags: tags,
		Summary: "Reset dealer password"},
		system, func(ctx context.Context, p *principal, in *dealerPasswordInput) (*noContent, error) {
			d, err := s.dealer(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			if err := checkPasswordPolicy("password", in.Body.Password); err != nil {
				return nil, err
			}
			if d.PasswordHash, err = hashPassword(s.cfg.Hash, in.Body.Password); err != nil {
				return nil, err
			}
			if err := s.db.UpdateDealer(ctx, &d); err != nil {
				return nil, err
			}
			if err := s.db.DeletePrincipalTokens(ctx, store.PrincipalDealer, d.ID); err != nil {
				return nil, err
			}
			s.auditSystem(ctx, p, "UPDATE", "DEALER", d.Name, nil, map[string]string{"password": "changed"})
			return &noContent{}, nil
		})
}

func (s *Server) dealer(ctx context.Context, path string) (store.Dealer, error) {
	id, err := parseID(path, "dealer")
	if err != nil {
		return store.Dealer{}, err
	}
	return s.db.Dealer(ctx, id)
}
