package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

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
	item := func(_ context.Context, h store.Holiday) HolidayItem { return newHolidayItem(h) }
	resource[store.Holiday, HolidayFields, HolidayItem, HolidayItem]{
		path: "/holidays", op: "holiday", what: "holiday", object: "HOLIDAY", tags: []string{"Holiday"},
		summaries: [5]string{"List holidays", "Create a new holiday", "Retrieve a holiday", "Update a holiday", "Destroy a holiday"},
		list:      s.db.ListHolidays, get: s.db.Holiday, create: s.db.CreateHoliday, update: s.db.UpdateHoliday, delete: s.db.DeleteHoliday,
		fresh: func(_ pbx.TenantID, b *HolidayFields) (store.Holiday, error) {
			return store.Holiday{}, required(need{"name", b.Name == nil}, need{"region", b.Region == nil},
				need{"consecutive", b.Consecutive == nil}, need{"every_year", b.EveryYear == nil})
		},
		apply:  func(_ context.Context, _ pbx.TenantID, f *HolidayFields, h *store.Holiday) error { return f.apply(h) },
		item:   item,
		detail: item,
		key:    func(h store.Holiday) (pbx.ID, string) { return h.ID, h.Name },
	}.register(s)
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
	item := func(_ context.Context, n store.NumberEntry) prefixItem { return newPrefixItem(n) }
	numberListResource(s, l.list, resource[store.NumberEntry, prefixFields, prefixItem, prefixItem]{
		path: l.path, op: l.noun, what: strings.ReplaceAll(l.noun, "_", " "), object: l.objectType, tags: []string{"Call Restriction"},
		summaries: l.summaries, created: l.status,
		fresh: func(_ pbx.TenantID, f *prefixFields) (store.NumberEntry, error) {
			return store.NumberEntry{}, required(need{"number_prefix", f.NumberPrefix == nil})
		},
		apply: func(_ context.Context, _ pbx.TenantID, f *prefixFields, n *store.NumberEntry) error {
			return l.apply(f, n)
		},
		item: item, detail: item,
	}).register(s)
}

// numberListResource completes r with the store calls and key of the
// tenant's number list l.
func numberListResource[F, Item, Detail any](s *Server, l store.NumberList, r resource[store.NumberEntry, F, Item, Detail]) resource[store.NumberEntry, F, Item, Detail] {
	r.list = func(ctx context.Context, tenant pbx.TenantID, opts store.ListOptions) ([]store.NumberEntry, int, error) {
		return s.db.ListNumbers(ctx, l, tenant, opts)
	}
	r.get = func(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (store.NumberEntry, error) {
		return s.db.Number(ctx, l, tenant, id)
	}
	r.create = func(ctx context.Context, tenant pbx.TenantID, n *store.NumberEntry) error {
		return s.db.CreateNumber(ctx, l, tenant, n)
	}
	r.update = func(ctx context.Context, tenant pbx.TenantID, n *store.NumberEntry) error {
		return s.db.UpdateNumber(ctx, l, tenant, n)
	}
	r.delete = func(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
		return s.db.DeleteNumber(ctx, l, tenant, id)
	}
	r.key = func(n store.NumberEntry) (pbx.ID, string) { return n.ID, n.Number }
	return r
}

func (s *Server) registerBlacklist() {
	item := func(_ context.Context, n store.NumberEntry) blacklistItem { return newBlacklistItem(n) }
	numberListResource(s, store.BlacklistedNumbers, resource[store.NumberEntry, blacklistFields, blacklistItem, blacklistItem]{
		path: "/blacklisted_numbers", op: "blacklisted_number", what: "blacklisted number", object: "BLACKLISTED_NUMBER",
		tags: []string{"Call Restriction"},
		summaries: [5]string{"List blacklisted numbers", "Create new blacklisted number", "Show blacklisted number", "Update blacklisted number",
			"Destroy blacklisted number"},
		fresh: func(_ pbx.TenantID, f *blacklistFields) (store.NumberEntry, error) {
			return store.NumberEntry{}, required(need{"number", f.Number == nil})
		},
		apply: func(_ context.Context, _ pbx.TenantID, f *blacklistFields, n *store.NumberEntry) error {
			return f.apply(n)
		},
		item: item, detail: item,
	}).register(s)
}
