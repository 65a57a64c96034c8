package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// ipFilterItem is an IP rule as PortSIP shows it. The SIP edge adds DENY
// rules itself when a source fails authentication too often.
type ipFilterItem struct {
	ID          string  `json:"id"`
	CIDR        string  `json:"cidr"`
	Target      string  `json:"target" enum:"ACCEPT,DENY"`
	ExpireAt    *string `json:"expire_at"`
	Description *string `json:"description"`
}

type ipFilterCreate struct {
	Body struct {
		CIDR        string `json:"cidr" minLength:"1"`
		Target      string `json:"target" enum:"ACCEPT,DENY"`
		ExpireAt    string `json:"expire_at,omitempty" format:"date-time"`
		Description string `json:"description,omitempty" maxLength:"255"`
	}
}

type ipFilterUpdate struct {
	ID   string `path:"id"`
	Body struct {
		CIDR        *string `json:"cidr,omitempty"`
		Target      *string `json:"target,omitempty" enum:"ACCEPT,DENY"`
		ExpireAt    *string `json:"expire_at,omitempty" format:"date-time"`
		Description *string `json:"description,omitempty" maxLength:"255"`
	}
}

type ipFilterOutput struct{ Body ipFilterItem }

func ipFilterView(f store.IPFilter) ipFilterItem {
	return ipFilterItem{ID: f.ID.String(), CIDR: f.CIDR, Target: string(f.Target), ExpireAt: timeOrNil(f.ExpireAt), Description: strOrNil(f.Description)}
}

func parseExpire(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, pbx.FieldErrorf("expire_at", "want an RFC 3339 time")
	}
	return t, nil
}

// registerIPFilters serves /ip_filters, the system's IP allow and deny rules.
// A change is pushed to the SIP edge at once.
func (s *Server) registerIPFilters() {
	tags := []string{"Security"}
	reload := func(ctx context.Context) {
		if f := s.sipDeps().ReloadIPFilters; f != nil {
			if err := f(ctx); err != nil {
				s.log.Warn("ip filters reload failed", "err", err)
			}
		}
	}
	handle(s, huma.Operation{OperationID: "list_ip_filters", Method: http.MethodGet, Path: "/ip_filters", Tags: tags, Summary: "List IP rules"},
		system, func(ctx context.Context, p *principal, in *listParams) (*listBody[ipFilterItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			fs, n, err := s.db.ListIPFilters(ctx, opts)
			if err != nil {
				return nil, err
			}
			items := make([]ipFilterItem, 0, len(fs))
			for _, f := range fs {
				items = append(items, ipFilterView(f))
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_ip_filter", Method: http.MethodPost, Path: "/ip_filters", Tags: tags, Summary: "Create an IP rule"},
		system, func(ctx context.Context, p *principal, in *ipFilterCreate) (*idBody, error) {
			exp, err := parseExpire(in.Body.ExpireAt)
			if err != nil {
				return nil, err
			}
			if _, err := store.ParsePrefix(in.Body.CIDR); err != nil {
				return nil, pbx.FieldErrorf("cidr", "want an IP address or CIDR")
			}
			f := store.IPFilter{CIDR: in.Body.CIDR, Target: store.IPFilterTarget(in.Body.Target), ExpireAt: exp, Description: in.Body.Description}
			if err := s.db.CreateIPFilter(ctx, &f); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "IP_BLACKLIST", f.CIDR, nil, ipFilterView(f))
			reload(ctx)
			return created(f.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_ip_filter", Method: http.MethodGet, Path: "/ip_filters/{id}", Tags: tags, Summary: "Retrieve an IP rule"},
		system, func(ctx context.Context, p *principal, in *struct {
			ID string `path:"id"`
		}) (*ipFilterOutput, error) {
			id, err := parseID(in.ID, "ip filter")
			if err != nil {
				return nil, err
			}
			f, err := s.db.IPFilter(ctx, id)
			if err != nil {
				return nil, err
			}
			return &ipFilterOutput{Body: ipFilterView(f)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_ip_filter", Method: http.MethodPost, Path: "/ip_filters/{id}", Tags: tags, Summary: "Update an IP rule"},
		system, func(ctx context.Context, p *principal, in *ipFilterUpdate) (*noContent, error) {
			id, err := parseID(in.ID, "ip filter")
			if err != nil {
				return nil, err
			}
			f, err := s.db.IPFilter(ctx, id)
			if err != nil {
				return nil, err
			}
			old := ipFilterView(f)
			if b := in.Body; b.CIDR != nil {
				if _, err := store.ParsePrefix(*b.CIDR); err != nil {
					return nil, pbx.FieldErrorf("cidr", "want an IP address or CIDR")
				}
				f.CIDR = *b.CIDR
			}
			if in.Body.Target != nil {
				f.Target = store.IPFilterTarget(*in.Body.Target)
			}
			if in.Body.ExpireAt != nil {
				if f.ExpireAt, err = parseExpire(*in.Body.ExpireAt); err != nil {
					return nil, err
				}
			}
			if in.Body.Description != nil {
				f.Description = *in.Body.Description
			}
			if err := s.db.UpdateIPFilter(ctx, &f); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "IP_BLACKLIST", f.CIDR, old, ipFilterView(f))
			reload(ctx)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "destroy_ip_filter", Method: http.MethodPost, Path: "/ip_filters/{id}/destroy", Tags: tags, Summary: "Delete an IP rule"},
		system, func(ctx context.Context, p *principal, in *struct {
			ID string `path:"id"`
		}) (*noContent, error) {
			id, err := parseID(in.ID, "ip filter")
			if err != nil {
				return nil, err
			}
			f, err := s.db.IPFilter(ctx, id)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteIPFilter(ctx, id); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "IP_BLACKLIST", f.CIDR, ipFilterView(f), nil)
			reload(ctx)
			return &noContent{}, nil
		})
}
