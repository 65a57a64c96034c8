package api

import (
	"time"

	"github.com/gopbx/gopbx/internal/query"
	"github.com/gopbx/gopbx/internal/store"
)

// listParams are PortSIP's list query options.
type listParams struct {
	Filter  string `query:"filter" doc:"OData subset: eq ne gt ge lt le, and, or, not, parentheses, startswith/endswith/contains"`
	Search  string `query:"search" doc:"Free text"`
	OrderBy string `query:"orderby" doc:"field asc|desc, ..."`
	Skip    int    `query:"skip" minimum:"0"`
	Top     int    `query:"top" minimum:"1" maximum:"100" default:"100"`
}

// options parses the list parameters. Errors name the parameter at fault.
func (l *listParams) options() (store.ListOptions, error) {
	f, err := query.Parse(l.Filter)
	if err != nil {
		return store.ListOptions{}, err
	}
	o, err := query.ParseOrderBy(l.OrderBy)
	if err != nil {
		return store.ListOptions{}, err
	}
	return store.ListOptions{Filter: f, Search: l.Search, OrderBy: o, Skip: l.Skip, Top: l.Top}, nil
}

// listBody is PortSIP's list envelope.
type listBody[T any] struct {
	Body struct {
		Count int `json:"count"`
		Items []T `json:"items"`
	}
}

func newList[T any](items []T, count int) *listBody[T] {
	out := &listBody[T]{}
	out.Body.Count = count
	out.Body.Items = items
	if out.Body.Items == nil {
		out.Body.Items = []T{}
	}
	return out
}

// timeOrNil renders a time as RFC 3339 UTC, or null when it is unset.
func timeOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// strOrNil renders an empty string as null, as PortSIP does for blank fields.
func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
