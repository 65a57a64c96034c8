package pbx

import (
	"encoding/json"
	"time"
)

// Tenant is a company on the PBX, separated from every other by its SIP
// domain. Settings holds the PortSIP tenant fields that no core package reads
// (features, quotas, retention, e164, webhooks...) as a JSON object that the
// API owns.
type Tenant struct {
	ID                 TenantID
	Name               string
	Domain             string // lower case, unique
	Enabled            bool
	Website            string
	Timezone           string
	Currency           string
	Region             string
	MaxExtensions      int
	MaxConcurrentCalls int
	Settings           json.RawMessage
	PasswordPolicy     json.RawMessage
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// User is an extension user of a tenant: a web login (Name and a hashed
// password) and a SIP account (ExtensionNumber and ExtensionPassword, kept in
// clear because digest authentication needs it). Settings holds the PortSIP
// user fields that no core package reads yet, as a JSON object.
type User struct {
	ID                ID
	Tenant            TenantID
	Name              string
	Enabled           bool
	Email             string
	DisplayName       string
	Role              Role
	MobilePhone       string
	WorkPhone         string
	HomePhone         string
	Address           string
	Department        string
	ExtensionNumber   string
	ExtensionPassword string
	PasswordHash      string
	Settings          json.RawMessage
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// ExtensionType says what owns a number of a tenant's extension namespace.
type ExtensionType string

// Extension types, as PortSIP names them.
const (
	ExtensionUser                ExtensionType = "EXTENSION"
	ExtensionRingGroup           ExtensionType = "RING_GROUP"
	ExtensionCallQueue           ExtensionType = "CALL_QUEUE"
	ExtensionConferenceRoom      ExtensionType = "CONFERENCE_ROOM"
	ExtensionVirtualReceptionist ExtensionType = "VIRTUAL_RECEPTIONIST"
)

// Extension is one number of a tenant's extension namespace and its owner.
type Extension struct {
	Tenant TenantID
	Number string
	Type   ExtensionType
	Owner  ID
	Name   string
}
