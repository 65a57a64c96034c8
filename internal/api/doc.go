// Package api serves gopbx's REST API under /api, following PortSIP PBX v22:
// the same paths, JSON field names and enums, {count, items} lists with
// filter/search/orderby/skip/top, errors as {"errors":[{code,message,detail}]},
// only GET and POST, and /destroy for deletes. Operations are declared with
// huma, so the server publishes its own OpenAPI 3.1 document at
// /api/openapi.json. Every operation states who may call it (see access.go),
// and every store call takes the tenant of the caller's scope explicitly, so
// a resource of another tenant is simply not found.
package api
