package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// HolidaySpec is when a holiday falls; the store keeps it as JSON. It is
// dialplan's Holiday, so that the API writes exactly what routing and the
// applications read.
type HolidaySpec = dialplan.Holiday

// checkHoliday validates the ranges of the date fields, naming the field at
// fault.
func checkHoliday(h HolidaySpec) error {
	for _, f := range []struct {
		name   string
		v      int
		lo, hi int
		allow0 bool
	}{
		{"year_start", h.YearStart, 1970, 9999, true}, {"year_end", h.YearEnd, 1970, 9999, true},
		{"month_start", h.MonthStart, 1, 12, true}, {"month_end", h.MonthEnd, 1, 12, true},
		{"day_start", h.DayStart, 1, 31, true}, {"day_end", h.DayEnd, 1, 31, true},
		{"hour_start", h.HourStart, 0, 23, false}, {"hour_end", h.HourEnd, 0, 23, false},
		{"minute_start", h.MinuteStart, 0, 59, false}, {"minute_end", h.MinuteEnd, 0, 59, false},
	} {
		if (f.v != 0 || !f.allow0) && (f.v < f.lo || f.v > f.hi) {
			return pbx.FieldErrorf(f.name, "%s must be %d to %d", f.name, f.lo, f.hi)
		}
	}
	if !h.EveryYear && h.YearStart == 0 {
		return pbx.FieldErrorf("year_start", "a holiday that is not every year needs year_start")
	}
	if h.MonthStart == 0 {
		return pbx.FieldErrorf("month_start", "month_start is required")
	}
	if h.DayStart == 0 {
		return pbx.FieldErrorf("day_start", "day_start is required")
	}
	return nil
}

// HolidayItem is a holiday as PortSIP shows it.
type HolidayItem struct {
	ID     string `json:"id"`
	Name   string `json:"name" maxLength:"64"`
	Region string `json:"region"`
	HolidaySpec
}

func newHolidayItem(h store.Holiday) HolidayItem {
	it := HolidayItem{ID: h.ID.String(), Name: h.Name, Region: h.Region}
	json.Unmarshal(h.Spec, &it.HolidaySpec)
	return it
}

// HolidayFields are the fields of a holiday a create or update sets.
type HolidayFields struct {
	Name        *string `json:"name,omitempty" maxLength:"64"`
	Region      *string `json:"region,omitempty"`
	Consecutive *bool   `json:"consecutive,omitempty"`
	EveryYear   *bool   `json:"every_year,omitempty"`
	YearStart   *int    `json:"year_start,omitempty"`
	YearEnd     *int    `json:"year_end,omitempty"`
	MonthStart  *int    `json:"month_start,omitempty"`
	MonthEnd    *int    `json:"month_end,omitempty"`
	DayStart    *int    `json:"day_start,omitempty"`
	DayEnd      *int    `json:"day_end,omitempty"`
	HourStart   *int    `json:"hour_start,omitempty"`
	HourEnd     *int    `json:"hour_end,omitempty"`
	MinuteStart *int    `json:"minute_start,omitempty"`
	MinuteEnd   *int    `json:"minute_end,omitempty"`
}

func (f *HolidayFields) apply(h *store.Holiday) error {
	it := newHolidayItem(*h)
	if f.Name != nil {
		h.Name = strings.TrimSpace(*f.Name)
	}
	setIf(&h.Region, f.Region)
	sp := &it.HolidaySpec
	setIf(&sp.Consecutive, f.Consecutive)
	setIf(&sp.EveryYear, f.EveryYear)
	setIf(&sp.YearStart, f.YearStart)
	setIf(&sp.YearEnd, f.YearEnd)
	setIf(&sp.MonthStart, f.MonthStart)
	setIf(&sp.MonthEnd, f.MonthEnd)
	setIf(&sp.DayStart, f.DayStart)
	setIf(&sp.DayEnd, f.DayEnd)
	setIf(&sp.HourStart, f.HourStart)
	setIf(&sp.HourEnd, f.HourEnd)
	setIf(&sp.MinuteStart, f.MinuteStart)
	setIf(&sp.MinuteEnd, f.MinuteEnd)
	if err := checkHoliday(*sp); err != nil {
		return err
	}
	b, err := json.Marshal(sp)
	if err != nil {
		return err
	}
	h.Spec = b
	return nil
}

// registerHolidays serves /holidays, the tenant's days off.
func (s *Server) registerHolidays() {
	tags := []string{"Holiday"}
	handle(s, huma.Operation{OperationID: "list_holidays", Method: http.MethodGet, Path: "/holidays", Tags: tags, Summary: "List holidays"},
		tenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[HolidayItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			hs, n, err := s.db.ListHolidays(ctx, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]HolidayItem, 0, len(hs))
			for _, h := range hs {
				items = append(items, newHolidayItem(h))
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_holiday", Method: http.MethodPost, Path: "/holidays", Tags: tags, Summary: "Create a new holiday",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body HolidayFields }) (*idBody, error) {
			b := in.Body
			for _, r := range []struct {
				field   string
				missing bool
			}{{"name", b.Name == nil}, {"region", b.Region == nil}, {"consecutive", b.Consecutive == nil}, {"every_year", b.EveryYear == nil}} {
				if r.missing {
					return nil, pbx.FieldErrorf(r.field, "%s is required", r.field)
				}
			}
			var h store.Holiday
			if err := b.apply(&h); err != nil {
				return nil, err
			}
			if err := s.db.CreateHoliday(ctx, p.scope, &h); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "HOLIDAY", h.Name, nil, newHolidayItem(h))
			return created(h.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_holiday", Method: http.MethodGet, Path: "/holidays/{id}", Tags: tags, Summary: "Retrieve a holiday"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body HolidayItem }, error) {
			h, err := s.holidayByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body HolidayItem }{Body: newHolidayItem(h)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_holiday", Method: http.MethodPost, Path: "/holidays/{id}", Tags: tags, Summary: "Update a holiday",
		Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID   string `path:"id"`
			Body HolidayFields
		}) (*noContent, error) {
			h, err := s.holidayByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			old := newHolidayItem(h)
			if err := in.Body.apply(&h); err != nil {
				return nil, err
			}
			if err := s.db.UpdateHoliday(ctx, p.scope, &h); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "HOLIDAY", h.Name, old, newHolidayItem(h))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_holiday", Method: http.MethodPost, Path: "/holidays/{id}/destroy", Tags: tags, Summary: "Destroy a holiday"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			h, err := s.holidayByPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteHoliday(ctx, p.scope, h.ID); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "HOLIDAY", h.Name, newHolidayItem(h), nil)
			return &noContent{}, nil
		})
}

func (s *Server) holidayByPath(ctx context.Context, p *principal, raw string) (store.Holiday, error) {
	id, err := parseID(raw, "holiday")
	if err != nil {
		return store.Holiday{}, err
	}
	return s.db.Holiday(ctx, p.scope, id)
}

// blacklistItem is a blacklisted caller number.
type blacklistItem struct {
	ID          string  `json:"id"`
	Number      string  `json:"number" maxLength:"64"`
	ExpireAt    *string `json:"expire_at"`
	CreatedAt   *string `json:"created_at"`
	UpdatedAt   *string `json:"updated_at"`
	Description *string `json:"description" maxLength:"255"`
}

func newBlacklistItem(n store.NumberEntry) blacklistItem {
	return blacklistItem{ID: n.ID.String(), Number: n.Number, ExpireAt: timeOrNil(n.ExpireAt), CreatedAt: timeOrNil(n.CreatedAt),
		UpdatedAt: timeOrNil(n.UpdatedAt), Description: strOrNil(n.Description)}
}

type blacklistFields struct {
	Number      *string `json:"number,omitempty" maxLength:"64"`
	ExpireAt    *string `json:"expire_at,omitempty" format:"date-time"`
	Description *string `json:"description,omitempty" maxLength:"255"`
}

func (f *blacklistFields) apply(n *store.NumberEntry) error {
	if f.Number != nil {
		v := strings.TrimSpace(*f.Number)
		if !numberish(v, false) {
			return pbx.FieldErrorf("number", "want a phone number")
		}
		n.Number = v
	}
	if f.ExpireAt != nil {
		t, err := parseExpire(*f.ExpireAt)
		if err != nil {
			return err
		}
		n.ExpireAt = t
	}
	setIf(&n.Description, f.Description)
	return nil
}

// prefixItem is an entry of the tenant's disallowed codes or emergency
// numbers: a dialled-number prefix.
type prefixItem struct {
	ID           string  `json:"id"`
	NumberPrefix string  `json:"number_prefix"`
	Description  *string `json:"description" maxLength:"1024"`
}

type prefixFields struct {
	NumberPrefix *string `json:"number_prefix,omitempty"`
	Description  *string `json:"description,omitempty" maxLength:"1024"`
}

// prefixList describes one of the tenant's prefix lists.
type prefixList struct {
	list       store.NumberList
	path       string // "/disallowed_codes"
	objectType string // the audit object type
	noun       string // in operation IDs
	maxLen     int    // of number_prefix
	status     int    // of a create: PortSIP answers 200 for emergency numbers
	summaries  [5]string
}

func (l prefixList) apply(f *prefixFields, n *store.NumberEntry) error {
	if f.NumberPrefix != nil {
		v := strings.TrimSpace(*f.NumberPrefix)
		if !numberish(v, false) {
			return pbx.FieldErrorf("number_prefix", "want digits")
		}
		if len(v) > l.maxLen {
			return pbx.FieldErrorf("number_prefix", "number_prefix is longer than %d characters", l.maxLen)
		}
		n.Number = v
	}
	setIf(&n.Description, f.Description)
	return nil
}

func newPrefixItem(n store.NumberEntry) prefixItem {
	return prefixItem{ID: n.ID.String(), NumberPrefix: n.Number, Description: strOrNil(n.Description)}
}

// registerNumberLists serves the tenant's lists of numbers:
// /blacklisted_numbers, /disallowed_codes and /emergency_numbers.
func (s *Server) registerNumberLists() {
	s.registerBlacklist()
	for _, l := range []prefixList{
		{list: store.DisallowedCodes, path: "/disallowed_codes", objectType: "BLOCK_CODE", noun: "disallowed_code", maxLen: 16, status: http.StatusCreated,
			summaries: [5]string{"List block codes", "Create a block code", "Retrieve blocked code", "Update a blocked code", "Destroy disallowed codes"}},
		{list: store.EmergencyNumbers, path: "/emergency_numbers", objectType: "EMERGENCY_NUMBER", noun: "emergency_number", maxLen: 64, status: http.StatusOK,
			summaries: [5]string{"List emergency numbers", "Add emergency number.", "Retrieve emergency number", "Update emergency number", "Delete emergency number"}},
	} {
		s.registerPrefixList(l)
	}
}

func (s *Server) registerPrefixList(l prefixList) {
	tags := []string{"Call Restriction"}
	byPath := func(ctx context.Context, p *principal, raw string) (store.NumberEntry, error) {
		id, err := parseID(raw, strings.ReplaceAll(l.noun, "_", " "))
		if err != nil {
			return store.NumberEntry{}, err
		}
		return s.db.Number(ctx, l.list, p.scope, id)
	}
	handle(s, huma.Operation{OperationID: "list_" + l.noun + "s", Method: http.MethodGet, Path: l.path, Tags: tags, Summary: l.summaries[0]},
		tenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[prefixItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			ns, n, err := s.db.ListNumbers(ctx, l.list, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]prefixItem, 0, len(ns))
			for _, e := range ns {
				items = append(items, newPrefixItem(e))
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_" + l.noun, Method: http.MethodPost, Path: l.path, Tags: tags, Summary: l.summaries[1],
		DefaultStatus: l.status, Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body prefixFields }) (*idBody, error) {
			if in.Body.NumberPrefix == nil {
				return nil, pbx.FieldErrorf("number_prefix", "number_prefix is required")
			}
			var n store.NumberEntry
			if err := l.apply(&in.Body, &n); err != nil {
				return nil, err
			}
			if err := s.db.CreateNumber(ctx, l.list, p.scope, &n); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", l.objectType, n.Number, nil, newPrefixItem(n))
			return created(n.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_" + l.noun, Method: http.MethodGet, Path: l.path + "/{id}", Tags: tags, Summary: l.summaries[2]},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body prefixItem }, error) {
			n, err := byPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body prefixItem }{Body: newPrefixItem(n)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_" + l.noun, Method: http.MethodPost, Path: l.path + "/{id}", Tags: tags, Summary: l.summaries[3],
		Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID   string `path:"id"`
			Body prefixFields
		}) (*noContent, error) {
			n, err := byPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			old := newPrefixItem(n)
			if err := l.apply(&in.Body, &n); err != nil {
				return nil, err
			}
			if err := s.db.UpdateNumber(ctx, l.list, p.scope, &n); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", l.objectType, n.Number, old, newPrefixItem(n))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_" + l.noun, Method: http.MethodPost, Path: l.path + "/{id}/destroy", Tags: tags, Summary: l.summaries[4]},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			n, err := byPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteNumber(ctx, l.list, p.scope, n.ID); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", l.objectType, n.Number, newPrefixItem(n), nil)
			return &noContent{}, nil
		})
}

func (s *Server) registerBlacklist() {
	tags := []string{"Call Restriction"}
	const list = store.BlacklistedNumbers
	byPath := func(ctx context.Context, p *principal, raw string) (store.NumberEntry, error) {
		id, err := parseID(raw, "blacklisted number")
		if err != nil {
			return store.NumberEntry{}, err
		}
		return s.db.Number(ctx, list, p.scope, id)
	}
	handle(s, huma.Operation{OperationID: "list_blacklisted_numbers", Method: http.MethodGet, Path: "/blacklisted_numbers", Tags: tags, Summary: "List blacklisted numbers"},
		tenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[blacklistItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			ns, n, err := s.db.ListNumbers(ctx, list, p.scope, opts)
			if err != nil {
				return nil, err
			}
			items := make([]blacklistItem, 0, len(ns))
			for _, e := range ns {
				items = append(items, newBlacklistItem(e))
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_blacklisted_number", Method: http.MethodPost, Path: "/blacklisted_numbers", Tags: tags,
		Summary: "Create new blacklisted number", DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body blacklistFields }) (*idBody, error) {
			if in.Body.Number == nil {
				return nil, pbx.FieldErrorf("number", "number is required")
			}
			var n store.NumberEntry
			if err := in.Body.apply(&n); err != nil {
				return nil, err
			}
			if err := s.db.CreateNumber(ctx, list, p.scope, &n); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "BLACKLISTED_NUMBER", n.Number, nil, newBlacklistItem(n))
			return created(n.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "get_blacklisted_number", Method: http.MethodGet, Path: "/blacklisted_numbers/{id}", Tags: tags, Summary: "Show blacklisted number"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body blacklistItem }, error) {
			n, err := byPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body blacklistItem }{Body: newBlacklistItem(n)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_blacklisted_number", Method: http.MethodPost, Path: "/blacklisted_numbers/{id}", Tags: tags,
		Summary: "Update blacklisted number", Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID   string `path:"id"`
			Body blacklistFields
		}) (*noContent, error) {
			n, err := byPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			old := newBlacklistItem(n)
			if err := in.Body.apply(&n); err != nil {
				return nil, err
			}
			if err := s.db.UpdateNumber(ctx, list, p.scope, &n); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "BLACKLISTED_NUMBER", n.Number, old, newBlacklistItem(n))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_blacklisted_number", Method: http.MethodPost, Path: "/blacklisted_numbers/{id}/destroy", Tags: tags,
		Summary: "Destroy blacklisted number"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			n, err := byPath(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteNumber(ctx, list, p.scope, n.ID); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "BLACKLISTED_NUMBER", n.Number, newBlacklistItem(n), nil)
			return &noContent{}, nil
		})
}
