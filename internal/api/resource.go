package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// resource describes a tenant object that PortSIP serves with five
// operations: list (GET path), create (POST path), retrieve (GET
// path/{id}), update (POST path/{id}) and destroy (POST path/{id}/destroy).
// register builds the five, with the audit log entry of each change, so a
// resource states only what is its own: its store calls, how a request's
// fields change an object, and how an object is shown.
//
// T is the stored object, F the request's fields (pointers: a field left
// out is not changed), Item an object as lists show it and Detail as
// retrieve shows it and the audit log keeps it.
type resource[T, F, Item, Detail any] struct {
	path      string    // "/inbound_rules"
	op        string    // operation IDs: list_<op>s, create_<op>, get_<op>, update_<op>, delete_<op>
	what      string    // "inbound rule", in the error about a bad ID
	object    string    // the audit log's object type, "INBOUND_RULE"
	tags      []string  // of the operations in the OpenAPI document
	summaries [5]string // list, create, retrieve, update, destroy
	created   int       // the status of a create; 0 is 201 Created

	list   func(ctx context.Context, tenant pbx.TenantID, opts store.ListOptions) ([]T, int, error)
	get    func(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (T, error)
	create func(ctx context.Context, tenant pbx.TenantID, v *T) error
	update func(ctx context.Context, tenant pbx.TenantID, v *T) error
	delete func(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error

	// fresh returns a new object of tenant with its defaults, or an error
	// naming the first required field that f lacks.
	fresh func(tenant pbx.TenantID, f *F) (T, error)
	// apply sets on v the fields f gives, checking each. A refused field
	// leaves the stored object as it was: nothing is written.
	apply  func(ctx context.Context, tenant pbx.TenantID, f *F, v *T) error
	item   func(ctx context.Context, v T) Item
	detail func(ctx context.Context, v T) Detail
	// key returns an object's ID and the name the audit log gives it.
	key func(v T) (pbx.ID, string)
}

// register serves r's five operations to tenant administrators.
func (r resource[T, F, Item, Detail]) register(s *Server) {
	status := r.created
	if status == 0 {
		status = http.StatusCreated
	}
	byPath := func(ctx context.Context, p *principal, raw string) (T, error) {
		id, err := parseID(raw, r.what)
		if err != nil {
			var zero T
			return zero, err
		}
		return r.get(ctx, p.scope, id)
	}
	handle(s, huma.Operation{OperationID: "list_" + r.op + "s", Method: http.MethodGet, Path: r.path, Tags: r.tags, Summary: r.summaries[0]},
		tenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[Item], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			vs, n, err := r.list(ctx, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]Item, 0, len(vs))
			for _, v := range vs {
				items = append(items, r.item(ctx, v))
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_" + r.op, Method: http.MethodPost, Path: r.path, Tags: r.tags, Summary: r.summaries[1],
		DefaultStatus: status, Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body F }) (*idBody, error) {
			v, err := r.fresh(p.scope, &in.Body)
			if err != nil {
				return nil, err
			}
			if err := r.apply(ctx, p.scope, &in.Body, &v); err != nil {
				return nil, err
			}
			if err := r.create(ctx, p.scope, &v); err != nil {
				return nil, err
			}
			id, name := r.key(v)
			s.audit(ctx, p, "CREATE", r.object, name, nil, r.detail(ctx, v))
			return created(id.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_" + r.op, Method: http.MethodGet, Path: r.path + "/{id}", Tags: r.tags, Summary: r.summaries[2]},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body Detail }, error) {
			v, err := byPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body Detail }{Body: r.detail(ctx, v)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_" + r.op, Method: http.MethodPost, Path: r.path + "/{id}", Tags: r.tags, Summary: r.summaries[3],
		Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID   string `path:"id"`
			Body F
		}) (*noContent, error) {
			v, err := byPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			old := r.detail(ctx, v)
			if err := r.apply(ctx, p.scope, &in.Body, &v); err != nil {
				return nil, err
			}
			if err := r.update(ctx, p.scope, &v); err != nil {
				return nil, err
			}
			_, name := r.key(v)
			s.audit(ctx, p, "UPDATE", r.object, name, old, r.detail(ctx, v))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_" + r.op, Method: http.MethodPost, Path: r.path + "/{id}/destroy", Tags: r.tags, Summary: r.summaries[4]},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			v, err := byPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			id, name := r.key(v)
			if err := r.delete(ctx, p.scope, id); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", r.object, name, r.detail(ctx, v), nil)
			return &noContent{}, nil
		})
}

// need is a field a create requires, and whether the request lacks it.
type need struct {
	field   string
	missing bool
}

// required returns an error naming the first of needs that is missing.
func required(needs ...need) error {
	for _, n := range needs {
		if n.missing {
			return pbx.FieldErrorf(n.field, "%s is required", n.field)
		}
	}
	return nil
}
