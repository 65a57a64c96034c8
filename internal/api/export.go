package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/store"
)

// PortSIP documents that its GET /{resource}/export operations answer a
// file, but not the file's columns. Ours is CSV (RFC 4180), one row per
// object, with a header row of the object's JSON field names as GET
// /{resource}/{id} shows them:
//
//   - nested objects are flattened with dotted names
//     (office_hours_forward_rule.action, office_hours.monday.enabled), and
//     an absent object leaves its cells empty;
//   - lists are joined with ';': a rule's holidays by ID, a day's office
//     hours as from-to ranges ("09:00-12:00;13:00-17:00"), and an outbound
//     rule's routes as enabled:provider_id:strip_digits:prepend:outbound_caller_id;
//   - null is an empty cell, and booleans are true or false.
//
// Secrets are never in a view (a trunk's password is not), so never in an
// export.
const exportDescription = "Every object the caller may list, as CSV: a header row of JSON field names, nested objects flattened " +
	"with dotted names (office_hours.monday.enabled), lists joined with ';' (holidays by ID, office hours ranges as from-to, " +
	"routes as enabled:provider_id:strip_digits:prepend:outbound_caller_id)."

// exportPage is the page size an export reads the store with.
const exportPage = store.MaxTop

// csvFile is the answer of an export: a CSV attachment.
type csvFile struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

// csvCeller is a list element with its own CSV form.
type csvCeller interface{ csvCell() string }

func (h ruleHoliday) csvCell() string   { return h.ID }
func (r ruleTimeRange) csvCell() string { return r.From + "-" + r.To }
func (r OutboundRoute) csvCell() string {
	return strings.Join([]string{strconv.FormatBool(r.Enabled), r.ProviderID, strconv.Itoa(r.StripDigits), r.Prepend, r.OutboundCallerID}, ":")
}

// registerExports serves GET /{resource}/export for the resources whose
// lists we serve, each open to whoever may list the resource.
func (s *Server) registerExports() {
	exportCSV(s, "/providers", "Trunk", "Export providers", systemOrTenantAdmin,
		func(ctx context.Context, p *principal, o store.ListOptions) ([]store.Provider, int, error) {
			return s.db.ListProviders(ctx, p.scope, o)
		},
		func(ctx context.Context, p *principal, pr store.Provider) (providerDetail, error) {
			return s.providerView(ctx, p.scope, pr)
		})
	exportCSV(s, "/inbound_rules", "Call Routing", "Export inbound rules", tenantAdmin,
		func(ctx context.Context, p *principal, o store.ListOptions) ([]store.InboundRule, int, error) {
			return s.db.ListInboundRules(ctx, p.scope, o)
		},
		func(ctx context.Context, p *principal, r store.InboundRule) (inboundRuleItem, error) {
			return s.inboundView(ctx, r), nil
		})
	exportCSV(s, "/outbound_rules", "Call Routing", "Export outbound rules", tenantAdmin,
		func(ctx context.Context, p *principal, o store.ListOptions) ([]store.OutboundRule, int, error) {
			return s.db.ListOutboundRules(ctx, p.scope, o)
		},
		func(ctx context.Context, p *principal, r store.OutboundRule) (outboundRuleDetail, error) {
			return s.outboundView(ctx, r), nil
		})
	exportCSV(s, "/blacklisted_numbers", "Call Restriction", "Export number blacklists", tenantAdmin,
		numberLister(s, store.BlacklistedNumbers), infallible(newBlacklistItem))
	exportCSV(s, "/disallowed_codes", "Call Restriction", "Export disallowed codes", tenantAdmin,
		numberLister(s, store.DisallowedCodes), infallible(newPrefixItem))
	exportCSV(s, "/ip_filters", "Security", "Export IP rules", system,
		func(ctx context.Context, p *principal, o store.ListOptions) ([]store.IPFilter, int, error) {
			return s.db.ListIPFilters(ctx, o)
		},
		infallible(ipFilterView))
}

func numberLister(s *Server, l store.NumberList) func(context.Context, *principal, store.ListOptions) ([]store.NumberEntry, int, error) {
	return func(ctx context.Context, p *principal, o store.ListOptions) ([]store.NumberEntry, int, error) {
		return s.db.ListNumbers(ctx, l, p.scope, o)
	}
}

func infallible[R, T any](view func(R) T) func(context.Context, *principal, R) (T, error) {
	return func(_ context.Context, _ *principal, r R) (T, error) { return view(r), nil }
}

// exportCSV registers GET path+"/export": every row list gives the caller,
// page by page, rendered by view and written as CSV with the columns of T.
func exportCSV[R, T any](s *Server, path, tag, summary string, allow access,
	list func(context.Context, *principal, store.ListOptions) ([]R, int, error),
	view func(context.Context, *principal, R) (T, error)) {
	var header []string
	seen := map[string]bool{}
	walkCSV(reflect.TypeFor[T](), reflect.Value{}, "", func(col, _ string) {
		if seen[col] {
			panic(fmt.Sprintf("export %s: column %q twice", path, col))
		}
		seen[col] = true
		header = append(header, col)
	})
	name := strings.TrimPrefix(path, "/")
	op := huma.Operation{OperationID: "export_" + name, Method: http.MethodGet, Path: path + "/export", Tags: []string{tag}, Summary: summary,
		Description: exportDescription,
		Responses: map[string]*huma.Response{"200": {Description: "OK", Content: map[string]*huma.MediaType{
			"text/csv": {Schema: &huma.Schema{Type: huma.TypeString}}}}}}
	handle(s, op, allow, func(ctx context.Context, p *principal, _ *struct{}) (*csvFile, error) {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(header)
		for skip := 0; ; skip += exportPage {
			rows, _, err := list(ctx, p, store.ListOptions{Skip: skip, Top: exportPage})
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				v, err := view(ctx, p, r)
				if err != nil {
					return nil, err
				}
				w.Write(csvRow(v))
			}
			if len(rows) < exportPage {
				break
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return nil, fmt.Errorf("export %s: %w", name, err)
		}
		return &csvFile{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="` + name + `.csv"`, Body: buf.Bytes()}, nil
	})
}

// csvRow flattens v into its cells, in the order of walkCSV's columns.
func csvRow[T any](v T) []string {
	var row []string
	walkCSV(reflect.TypeFor[T](), reflect.ValueOf(v), "", func(_, cell string) { row = append(row, cell) })
	return row
}

// walkCSV calls emit with the column name and cell of every leaf of t, in
// field order. The columns depend on t alone: v may be the zero Value (an
// absent object), whose cells are empty.
func walkCSV(t reflect.Type, v reflect.Value, prefix string, emit func(col, cell string)) {
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsValid() {
			if v.IsNil() {
				v = reflect.Value{}
			} else {
				v = v.Elem()
			}
		}
		walkCSV(t.Elem(), v, prefix, emit)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			var fv reflect.Value
			if v.IsValid() {
				fv = v.Field(i)
			}
			if f.Anonymous && name == "" {
				walkCSV(f.Type, fv, prefix, emit)
				continue
			}
			if name == "" {
				name = f.Name
			}
			if prefix != "" {
				name = prefix + "." + name
			}
			walkCSV(f.Type, fv, name, emit)
		}
	default:
		emit(prefix, csvScalar(v))
	}
}

// csvScalar renders a leaf: "" for null, lists joined with ';'.
func csvScalar(v reflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	if v.CanInterface() {
		if c, ok := v.Interface().(csvCeller); ok {
			return c.csvCell()
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return csvScalar(v.Elem())
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case reflect.Slice, reflect.Array:
		cells := make([]string, v.Len())
		for i := range cells {
			cells[i] = csvScalar(v.Index(i))
		}
		return strings.Join(cells, ";")
	}
	return fmt.Sprint(v)
}
