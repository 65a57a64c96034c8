package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
)

// meDetail is the signed-in user's own record, as GET /user answers it.
type meDetail struct {
	UserDetail
	Transports []transport `json:"transports"`
}

// transport is a SIP transport the user's phones may register over.
type transport struct {
	Protocol     string `json:"protocol" enum:"UDP,TCP,TLS"`
	Port         int    `json:"port" minimum:"0" maximum:"65535" format:"int32"`
	Verification string `json:"verification,omitempty" enum:"DISABLE,OPTIONAL,MANDATORY"`
}

type changePasswordInput struct {
	Body struct {
		OldPassword string `json:"old_password,omitempty"`
		NewPassword string `json:"new_password"`
	}
}

// registerUser serves /user: the signed-in extension user acting on its own
// record, in its own tenant. Role, enabled and extension number are the
// administrator's to change, so they are not accepted here.
func (s *Server) registerUser() {
	tags := []string{"User"}
	handle(s, huma.Operation{OperationID: "get_current_user", Method: http.MethodGet, Path: "/user", Tags: tags, Summary: "Retrieve current user"},
		anyUser, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body meDetail }, error) {
			u, err := s.db.User(ctx, p.scope, p.id)
			if err != nil {
				return nil, err
			}
			return &struct{ Body meDetail }{Body: meDetail{UserDetail: newUserDetail(u), Transports: []transport{}}}, nil
		})
	handle(s, huma.Operation{OperationID: "update_current_user", Method: http.MethodPost, Path: "/user", Tags: tags, Summary: "Update current user properties."},
		anyUser, func(ctx context.Context, p *principal, in *struct{ Body ProfileFields }) (*noContent, error) {
			u, err := s.db.User(ctx, p.scope, p.id)
			if err != nil {
				return nil, err
			}
			old := u
			if err := in.Body.apply(&u); err != nil {
				return nil, err
			}
			if err := s.db.UpdateUser(ctx, p.scope, &u); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "USER", u.Name, userAudit(old), userAudit(u))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "reset_current_user_password", Method: http.MethodPost, Path: "/user/password", Tags: tags, Summary: "Reset current user password"},
		anyUser, func(ctx context.Context, p *principal, in *changePasswordInput) (*noContent, error) {
			u, err := s.db.User(ctx, p.scope, p.id)
			if err != nil {
				return nil, err
			}
			if in.Body.OldPassword == "" {
				return nil, pbx.FieldErrorf("old_password", "the current password is required")
			}
			if !checkPassword(u.PasswordHash, in.Body.OldPassword) {
				return nil, pbx.FieldErrorf("old_password", "the current password is wrong")
			}
			// Every session of the user ends, this one included: the
			// client logs in again with the new password.
			return &noContent{}, s.setPassword(ctx, p, &u, in.Body.NewPassword, "new_password")
		})
	handle(s, huma.Operation{OperationID: "reset_current_user_extension_password", Method: http.MethodPost, Path: "/user/extension_password", Tags: tags,
		Summary: "Reset current user extension password"},
		anyUser, func(ctx context.Context, p *principal, in *changePasswordInput) (*noContent, error) {
			u, err := s.db.User(ctx, p.scope, p.id)
			if err != nil {
				return nil, err
			}
			if in.Body.OldPassword == "" {
				return nil, pbx.FieldErrorf("old_password", "the current extension password is required")
			}
			if !equalSecret(u.ExtensionPassword, in.Body.OldPassword) {
				return nil, pbx.FieldErrorf("old_password", "the current extension password is wrong")
			}
			return &noContent{}, s.setExtensionPassword(ctx, p, &u, in.Body.NewPassword, "new_password")
		})
	handle(s, huma.Operation{OperationID: "get_current_user_status", Method: http.MethodGet, Path: "/user/status", Tags: tags, Summary: "Retrieves current user status"},
		anyUser, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body userStatus }, error) {
			u, err := s.db.User(ctx, p.scope, p.id)
			if err != nil {
				return nil, err
			}
			return s.userLiveStatus(ctx, u)
		})
	handle(s, huma.Operation{OperationID: "reset_current_user_profile", Method: http.MethodPost, Path: "/user/profile", Tags: tags, Summary: "Reset current user profile"},
		anyUser, func(ctx context.Context, p *principal, _ *struct{}) (*noContent, error) {
			// Phone provisioning profiles are not generated yet: nothing to reset.
			_, err := s.db.User(ctx, p.scope, p.id)
			return &noContent{}, err
		})
}
