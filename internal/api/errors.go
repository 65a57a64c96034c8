package api

import (
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
)

// errorTable maps error kinds to an HTTP status and PortSIP's error code. It
// is the only place that does.
var errorTable = map[string]struct {
	status int
	code   string
}{
	pbx.EINVALID:      {http.StatusBadRequest, "VALIDATE_FAILED"},
	pbx.EUNAUTHORIZED: {http.StatusUnauthorized, "UNAUTHORIZED"},
	pbx.EFORBIDDEN:    {http.StatusForbidden, "FORBIDDEN"},
	pbx.ENOTFOUND:     {http.StatusNotFound, "NOT_FOUND"},
	pbx.ECONFLICT:     {http.StatusConflict, "CONFLICT"},
	pbx.ETOOMANY:      {http.StatusTooManyRequests, "TOO_MANY_REQUESTS"},
	pbx.EUNAVAILABLE:  {http.StatusServiceUnavailable, "UNKNOWN"},
	pbx.EINTERNAL:     {http.StatusInternalServerError, "UNKNOWN"},
}

// statusCodes maps statuses that huma raises on its own (bad JSON, failed
// schema validation, unknown routes) to PortSIP codes.
var statusCodes = map[int]string{
	http.StatusBadRequest:            "VALIDATE_FAILED",
	http.StatusUnprocessableEntity:   "VALIDATE_FAILED",
	http.StatusUnauthorized:          "UNAUTHORIZED",
	http.StatusForbidden:             "FORBIDDEN",
	http.StatusNotFound:              "NOT_FOUND",
	http.StatusMethodNotAllowed:      "NOT_FOUND",
	http.StatusConflict:              "CONFLICT",
	http.StatusRequestEntityTooLarge: "VALIDATE_FAILED",
	http.StatusTooManyRequests:       "TOO_MANY_REQUESTS",
}

// ErrorItem is one entry of PortSIP's errors array. Detail names the field
// at fault for validation errors.
type ErrorItem struct {
	Code    string `json:"code" enum:"UNAUTHORIZED,FORBIDDEN,NOT_FOUND,VALIDATE_FAILED,CONFLICT,TOO_MANY_REQUESTS,UNKNOWN"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// ErrorBody is PortSIP's error response.
type ErrorBody struct {
	status int
	Errors []ErrorItem `json:"errors"`
}

// Error implements error.
func (e *ErrorBody) Error() string {
	if len(e.Errors) == 0 {
		return http.StatusText(e.status)
	}
	return e.Errors[0].Message
}

// GetStatus implements huma.StatusError.
func (e *ErrorBody) GetStatus() int { return e.status }

// fieldDetail is the detail of a validation error.
type fieldDetail struct {
	Field string `json:"field"`
}

// apiError converts any error a handler returns into the response body.
// Internal errors never show their message.
func apiError(err error) *ErrorBody {
	var body *ErrorBody
	if errors.As(err, &body) {
		return body
	}
	kind := pbx.ErrorCode(err)
	row, ok := errorTable[kind]
	if !ok {
		row = errorTable[pbx.EINTERNAL]
	}
	item := ErrorItem{Code: row.code, Message: pbx.ErrorMessage(err)}
	if f := pbx.ErrorField(err); f != "" {
		item.Detail = fieldDetail{Field: f}
		item.Message = f + ": " + item.Message
	}
	return &ErrorBody{status: row.status, Errors: []ErrorItem{item}}
}

// hookErrors makes huma answer its own errors (bad JSON, schema validation)
// in PortSIP's shape. huma exposes this only as a package variable; it is set
// once, to the same function, by every api.New.
var hookErrors sync.Once

func installErrorModel() {
	hookErrors.Do(func() {
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			if status == http.StatusUnprocessableEntity {
				status = http.StatusBadRequest
			}
			code, ok := statusCodes[status]
			if !ok {
				code = "UNKNOWN"
			}
			body := &ErrorBody{status: status}
			for _, e := range errs {
				var d *huma.ErrorDetail
				if errors.As(e, &d) {
					item := ErrorItem{Code: code, Message: d.Message}
					if field := fieldOf(d); field != "" {
						item.Message, item.Detail = field+": "+d.Message, fieldDetail{Field: field}
					}
					body.Errors = append(body.Errors, item)
					continue
				}
				if inner := apiError(e); status >= 500 || pbx.ErrorCode(e) != pbx.EINTERNAL {
					body.Errors = append(body.Errors, inner.Errors...)
					continue
				}
				body.Errors = append(body.Errors, ErrorItem{Code: code, Message: msg})
			}
			if len(body.Errors) == 0 {
				if status >= 500 {
					msg = "internal error"
				}
				body.Errors = []ErrorItem{{Code: code, Message: msg}}
			}
			return body
		}
	})
}

// fieldOf names the input field a huma validation detail is about: its
// location without the "body."/"query."/"path." prefix, completed with the
// property a "required property" message names.
func fieldOf(d *huma.ErrorDetail) string {
	loc := d.Location
	if rest, ok := strings.CutPrefix(d.Message, "expected required property "); ok {
		if name, _, ok := strings.Cut(rest, " "); ok {
			loc += "." + name
		}
	}
	for _, p := range []string{"body", "query", "path", "header"} {
		if loc == p {
			return ""
		}
		loc = strings.TrimPrefix(loc, p+".")
	}
	return loc
}
