package pbx

// Role names a set of permissions. The built-in roles are PortSIP's; a tenant
// may add custom roles with PortSIP's permission booleans.
type Role string

// Built-in roles. SystemAdmin and Dealer live in the system scope; the rest
// belong to a tenant.
const (
	RoleSystemAdmin               Role = "SystemAdmin"
	RoleDealer                    Role = "Dealer"
	RoleAdmin                     Role = "Admin"
	RoleQueueManager              Role = "QueueManager"
	RoleStandardUser              Role = "StandardUser"
	RoleStandardInternationalUser Role = "StandardInternationalUser"
)

// BuiltinTenantRoles lists the roles every tenant has, in PortSIP's order.
func BuiltinTenantRoles() []Role {
	return []Role{RoleAdmin, RoleQueueManager, RoleStandardUser, RoleStandardInternationalUser}
}

// IsBuiltin reports whether r is one of the built-in roles.
func (r Role) IsBuiltin() bool {
	switch r {
	case RoleSystemAdmin, RoleDealer, RoleAdmin, RoleQueueManager, RoleStandardUser, RoleStandardInternationalUser:
		return true
	}
	return false
}
