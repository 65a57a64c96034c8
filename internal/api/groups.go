package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

type groupCallerID struct {
	ProviderID  string `json:"provider_id,omitempty"`
	CallerID    string `json:"caller_id,omitempty" maxLength:"64"`
	Description string `json:"description,omitempty" maxLength:"1024"`
}

// GroupItem is a group in PortSIP's list of user groups.
type GroupItem struct {
	ID          string  `json:"id"`
	Name        string  `json:"name" maxLength:"64"`
	Description *string `json:"description" maxLength:"1024"`
}

type groupDetail struct {
	GroupItem
	OutboundCallerIDs []groupCallerID `json:"outbound_caller_ids"`
}

func newGroupDetail(g store.Group) groupDetail {
	d := groupDetail{GroupItem: GroupItem{ID: g.ID.String(), Name: g.Name, Description: strOrNil(g.Description)}}
	json.Unmarshal(g.OutboundCallerIDs, &d.OutboundCallerIDs)
	if d.OutboundCallerIDs == nil {
		d.OutboundCallerIDs = []groupCallerID{}
	}
	return d
}

type groupMember struct {
	ID              string `json:"id"`
	Name            string `json:"name" maxLength:"64"`
	DisplayName     string `json:"display_name" maxLength:"1024"`
	ExtensionNumber string `json:"extension_number" maxLength:"64"`
}

func newGroupMember(u pbx.User) groupMember {
	return groupMember{ID: u.ID.String(), Name: u.Name, DisplayName: u.DisplayName, ExtensionNumber: u.ExtensionNumber}
}

type groupFields struct {
	Name              *string          `json:"name,omitempty" maxLength:"64"`
	OutboundCallerIDs *[]groupCallerID `json:"outbound_caller_ids,omitempty"`
	Description       *string          `json:"description,omitempty" maxLength:"1024"`
}

// apply writes the given fields over g.
func (f *groupFields) apply(g *store.Group) error {
	if f.Name != nil {
		if strings.TrimSpace(*f.Name) == "" {
			return pbx.FieldErrorf("name", "name must not be empty")
		}
		g.Name = strings.TrimSpace(*f.Name)
	}
	if f.Description != nil {
		g.Description = *f.Description
	}
	if f.OutboundCallerIDs != nil {
		b, err := json.Marshal(*f.OutboundCallerIDs)
		if err != nil {
			return err
		}
		g.OutboundCallerIDs = b
	}
	return nil
}

type groupMemberInput struct {
	ID     string `path:"id"`
	Number string `path:"extension_number" maxLength:"64"`
}

// registerGroups serves /groups, the tenant's user groups and their members.
func (s *Server) registerGroups() {
	tags := []string{"User"}
	handle(s, huma.Operation{OperationID: "list_groups", Method: http.MethodGet, Path: "/groups", Tags: tags, Summary: "List user groups"},
		tenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[GroupItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			groups, n, err := s.db.ListGroups(ctx, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]GroupItem, 0, len(groups))
			for _, g := range groups {
				items = append(items, newGroupDetail(g).GroupItem)
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_group", Method: http.MethodPost, Path: "/groups", Tags: tags, Summary: "Create an user group",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body groupFields }) (*idBody, error) {
			if in.Body.Name == nil {
				return nil, pbx.FieldErrorf("name", "name is required")
			}
			var g store.Group
			if err := in.Body.apply(&g); err != nil {
				return nil, err
			}
			if err := s.db.CreateGroup(ctx, p.scope, &g); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "USER_GROUP", g.Name, nil, newGroupDetail(g))
			return created(g.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_group", Method: http.MethodGet, Path: "/groups/{id}", Tags: tags, Summary: "Retrieve an user group"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body groupDetail }, error) {
			g, err := s.groupByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body groupDetail }{Body: newGroupDetail(g)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_group", Method: http.MethodPost, Path: "/groups/{id}", Tags: tags, Summary: "Update an user group.",
		Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID   string `path:"id"`
			Body groupFields
		}) (*noContent, error) {
			g, err := s.groupByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			old := g
			if err := in.Body.apply(&g); err != nil {
				return nil, err
			}
			if err := s.db.UpdateGroup(ctx, p.scope, &g); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "USER_GROUP", g.Name, newGroupDetail(old), newGroupDetail(g))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_group", Method: http.MethodPost, Path: "/groups/{id}/destroy", Tags: tags, Summary: "Delete an user group"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			g, err := s.groupByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteGroup(ctx, p.scope, g.ID); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "USER_GROUP", g.Name, newGroupDetail(g), nil)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "list_group_members", Method: http.MethodGet, Path: "/groups/{id}/members", Tags: tags, Summary: "List user group members"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct {
			Body struct {
				Items []groupMember `json:"items"`
			}
		}, error) {
			id, err := parseID(in.ID, "group")
			if err != nil {
				return nil, err
			}
			users, err := s.db.GroupMembers(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Items []groupMember `json:"items"`
				}
			}{}
			out.Body.Items = make([]groupMember, 0, len(users))
			for _, u := range users {
				out.Body.Items = append(out.Body.Items, newGroupMember(u))
			}
			return out, nil
		})
	handle(s, huma.Operation{OperationID: "get_group_member", Method: http.MethodGet, Path: "/groups/{id}/members/{extension_number}", Tags: tags,
		Summary: "Check user group member"},
		tenantAdmin, func(ctx context.Context, p *principal, in *groupMemberInput) (*struct{ Body groupMember }, error) {
			id, err := parseID(in.ID, "group")
			if err != nil {
				return nil, err
			}
			u, err := s.db.GroupMember(ctx, p.scope, id, in.Number)
			if err != nil {
				return nil, err
			}
			return &struct{ Body groupMember }{Body: newGroupMember(u)}, nil
		})
	handle(s, huma.Operation{OperationID: "add_group_member", Method: http.MethodPost, Path: "/groups/{id}/members/{extension_number}", Tags: tags,
		Summary: "Add user group member", Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *groupMemberInput) (*noContent, error) {
			g, err := s.groupByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.AddGroupMember(ctx, p.scope, g.ID, in.Number); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "USER_GROUP", g.Name, nil, map[string]string{"added_member": in.Number})
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_group_member", Method: http.MethodPost, Path: "/groups/{id}/members/{extension_number}/destroy", Tags: tags,
		Summary: "Delete group member"},
		tenantAdmin, func(ctx context.Context, p *principal, in *groupMemberInput) (*noContent, error) {
			g, err := s.groupByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.RemoveGroupMember(ctx, p.scope, g.ID, in.Number); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "USER_GROUP", g.Name, nil, map[string]string{"removed_member": in.Number})
			return &noContent{}, nil
		})
}

// groupByPath returns the group a path ID names in the caller's tenant.
func (s *Server) groupByPath(ctx context.Context, p *principal, raw string) (store.Group, error) {
	id, err := parseID(raw, "group")
	if err != nil {
		return store.Group{}, err
	}
	return s.db.Group(ctx, p.scope, id)
}
