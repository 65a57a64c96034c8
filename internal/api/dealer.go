package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// currentDealer is the signed-in dealer's own record as GET /dealer shows
// it: /dealers' fields without tenant_full_access, which PortSIP keeps for
// the system admin's view.
type currentDealer struct {
	ID            string   `json:"id"`
	Enabled       bool     `json:"enabled" default:"true"`
	Level         string   `json:"level" enum:"DISTRIBUTOR,SUB_DISTRIBUTOR,RESELLER"`
	Name          string   `json:"name" maxLength:"64"`
	Email         nullText `json:"email" maxLength:"128"`
	DisplayName   nullText `json:"display_name" maxLength:"1024"`
	Website       nullText `json:"website"`
	Phone         nullText `json:"phone" maxLength:"32"`
	Address       nullText `json:"address" maxLength:"128"`
	Description   nullText `json:"description"`
	MaxTenants    int      `json:"max_tenants" minimum:"0" default:"100"`
	MaxExtensions int      `json:"max_extensions" minimum:"0" default:"50000"`
}

func newCurrentDealer(d store.Dealer) currentDealer {
	return currentDealer{ID: d.ID.String(), Enabled: d.Enabled, Level: d.Level, Name: d.Name, Email: nullText(d.Email),
		DisplayName: nullText(d.DisplayName), Website: nullText(d.Website), Phone: nullText(d.Phone), Address: nullText(d.Address),
		Description: nullText(d.Description), MaxTenants: d.MaxTenants, MaxExtensions: d.MaxExtensions}
}

// dealerStatus is GET /dealer/status: the dealer's use of its limits.
// gopbx has no sub-dealers, so max_dealers and current_dealers are 0.
type dealerStatus struct {
	Version        string `json:"version"`
	MaxDealers     int    `json:"max_dealers"`
	CurrentDealers int    `json:"current_dealers"`
	MaxUsers       int    `json:"max_users"`
	CurrentUsers   int    `json:"current_users"`
	MaxTenants     int    `json:"max_tenants"`
	CurrentTenants int    `json:"current_tenants"`
}

// registerDealer serves /dealer: the signed-in dealer acting on its own
// account. Its limits, level, enabled flag and tenant_full_access are the
// system admin's to set through /dealers/{id}, so they are not accepted here.
// Changes are audited in the system's log, where dealers are.
func (s *Server) registerDealer() {
	tags := []string{"Administration"}
	handle(s, huma.Operation{OperationID: "get_current_dealer", Method: http.MethodGet, Path: "/dealer", Tags: tags,
		Summary: "Retrieve current dealer"},
		dealerSelf, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body currentDealer }, error) {
			d, err := s.db.Dealer(ctx, p.id)
			if err != nil {
				return nil, err
			}
			return &struct{ Body currentDealer }{Body: newCurrentDealer(d)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_current_dealer", Method: http.MethodPost, Path: "/dealer", Tags: tags,
		Summary: "Update current dealer"},
		dealerSelf, func(ctx context.Context, p *principal, in *struct{ Body DealerFields }) (*noContent, error) {
			d, err := s.db.Dealer(ctx, p.id)
			if err != nil {
				return nil, err
			}
			old := newDealerItem(d)
			in.Body.apply(&d)
			if err := s.db.UpdateDealer(ctx, &d); err != nil {
				return nil, err
			}
			s.auditSystem(ctx, p, "UPDATE", "DEALER", d.Name, old, newDealerItem(d))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "reset_current_dealer_password", Method: http.MethodPost, Path: "/dealer/password", Tags: tags,
		Summary: "Reset current dealer password"},
		dealerSelf, func(ctx context.Context, p *principal, in *adminPasswordInput) (*noContent, error) {
			d, err := s.db.Dealer(ctx, p.id)
			if err != nil {
				return nil, err
			}
			return s.changeOwnPassword(ctx, p, in, ownAccount{hash: &d.PasswordHash, kind: store.PrincipalDealer, id: d.ID,
				objectType: "DEALER", name: d.Name, save: func() error { return s.db.UpdateDealer(ctx, &d) }})
		})
	handle(s, huma.Operation{OperationID: "get_current_dealer_status", Method: http.MethodGet, Path: "/dealer/status", Tags: tags,
		Summary: "Retrieve current dealer status"},
		dealerSelf, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body dealerStatus }, error) {
			d, err := s.db.Dealer(ctx, p.id)
			if err != nil {
				return nil, err
			}
			u, err := s.db.DealerUsage(ctx, d.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body dealerStatus }{Body: dealerStatus{Version: s.cfg.Version, MaxUsers: d.MaxExtensions,
				CurrentUsers: u.Users, MaxTenants: d.MaxTenants, CurrentTenants: u.Tenants}}, nil
		})
	handle(s, huma.Operation{OperationID: "change_current_dealer_username", Method: http.MethodPost, Path: "/dealer/username", Tags: tags,
		Summary: "Change current dealer username"},
		dealerSelf, func(ctx context.Context, p *principal, in *adminUsernameInput) (*noContent, error) {
			name := strings.TrimSpace(in.Body.Name)
			if err := checkAccountName(name); err != nil {
				return nil, err
			}
			// Dealers and system admins log in without a domain and share
			// one namespace; the admin's reserved names stay out of it.
			if reservedAccountNames[strings.ToLower(name)] {
				return nil, pbx.FieldErrorf("name", "%q is reserved", name)
			}
			if _, err := s.db.AdminByName(ctx, name); err == nil {
				return nil, &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "name already in use"}
			}
			d, err := s.db.Dealer(ctx, p.id)
			if err != nil {
				return nil, err
			}
			old := d.Name
			d.Name = name
			if err := s.db.UpdateDealer(ctx, &d); err != nil {
				return nil, err
			}
			s.auditSystem(ctx, p, "UPDATE", "DEALER", d.Name, map[string]string{"name": old}, map[string]string{"name": d.Name})
			return &noContent{}, nil
		})
}
