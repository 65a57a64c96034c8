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
	detail := func(_ context.Context, g store.Group) groupDetail { return newGroupDetail(g) }
	resource[store.Group, groupFields, GroupItem, groupDetail]{
		path: "/groups", op: "group", what: "group", object: "USER_GROUP", tags: tags,
		summaries: [5]string{"List user groups", "Create an user group", "Retrieve an user group", "Update an user group.", "Delete an user group"},
		list:      s.db.ListGroups, get: s.db.Group, create: s.db.CreateGroup, update: s.db.UpdateGroup, delete: s.db.DeleteGroup,
		fresh: func(_ pbx.TenantID, f *groupFields) (store.Group, error) {
			return store.Group{}, required(need{"name", f.Name == nil})
		},
		apply:  func(_ context.Context, _ pbx.TenantID, f *groupFields, g *store.Group) error { return f.apply(g) },
		item:   func(_ context.Context, g store.Group) GroupItem { return newGroupDetail(g).GroupItem },
		detail: detail,
		key:    func(g store.Group) (pbx.ID, string) { return g.ID, g.Name },
	}.register(s)
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
