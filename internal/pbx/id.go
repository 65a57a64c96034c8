package pbx

import (
	"fmt"
	"strconv"
)

// ID identifies a stored object. It is a 64-bit snowflake (milliseconds since
// 2018-01-01 UTC, a 10-bit node and a 12-bit sequence) that the API shows as a
// decimal string, as PortSIP does; clients treat it as opaque.
type ID int64

// String returns the decimal form used on the wire.
func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

// ParseID parses the decimal form of an ID. Anything else, including zero or
// a negative number, is an EINVALID error so that a bad path parameter reads
// as "not found" rather than as a server fault.
func ParseID(s string) (ID, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, Errorf(EINVALID, "invalid id %q", s)
	}
	return ID(n), nil
}

// TenantID identifies a tenant. The zero value is the system scope, which
// owns the system administrator, dealers and system-wide logs.
type TenantID int64

// SystemTenant is the scope of objects that belong to no tenant.
const SystemTenant TenantID = 0

// String returns the decimal form used on the wire.
func (t TenantID) String() string { return strconv.FormatInt(int64(t), 10) }

// ParseTenantID parses the decimal form of a tenant ID.
func ParseTenantID(s string) (TenantID, error) {
	id, err := ParseID(s)
	if err != nil {
		return 0, fmt.Errorf("parse tenant id: %w", err)
	}
	return TenantID(id), nil
}
