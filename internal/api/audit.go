package api

import (
	"context"
	"encoding/json"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// audit records a change or login in the audit log of the principal's
// scope. old and new are rendered as JSON; secrets must be removed by the
// caller. A failure to write the log is logged, never returned: the change
// it describes has already happened.
func (s *Server) audit(ctx context.Context, p *principal, action, objectType, objectName string, old, new any) {
	l := store.AuditLog{Action: action, ObjectType: objectType, ObjectName: objectName, IP: remoteFrom(ctx), Source: "api"}
	if p != nil {
		l.Tenant = p.scope
		l.UserName = s.principalName(ctx, p)
	}
	if old != nil {
		b, _ := json.Marshal(old)
		l.OldState = string(b)
	}
	if new != nil {
		b, _ := json.Marshal(new)
		l.NewState = string(b)
	}
	if err := s.db.AddAuditLog(ctx, &l); err != nil {
		s.log.Warn("audit log write failed", "err", err)
	}
	s.configChanged(l.Tenant, objectType)
}

// routingObjects are the objects whose writes change how calls are routed.
// Every write of the API is audited, so the audit is where the SIP side
// learns of them; true marks the system-level ones (trunks), which concern
// every tenant.
var routingObjects = map[string]bool{
	"PROVIDER": true, "TENANT": true,
	"INBOUND_RULE": false, "OUTBOUND_RULE": false, "HOLIDAY": false, "BLACKLISTED_NUMBER": false,
	"DISALLOWED_CODE": false, "EMERGENCY_NUMBER": false, "USER_GROUP": false, "USER": false, "ROLE": false,
	"VIRTUAL_RECEPTIONIST": false,
}

// configChanged tells the SIP side that routing configuration of tenant
// (of every tenant, for trunks) changed.
func (s *Server) configChanged(tenant pbx.TenantID, objectType string) {
	system, ok := routingObjects[objectType]
	if !ok {
		return
	}
	f := s.sipDeps().ConfigChanged
	if f == nil {
		return
	}
	if system {
		tenant = 0
	}
	f(tenant, system && objectType == "PROVIDER")
}

// principalName is the account name shown in audit logs.
func (s *Server) principalName(ctx context.Context, p *principal) string {
	switch p.kind {
	case store.PrincipalAdmin:
		if a, err := s.db.Admin(ctx, p.id); err == nil {
			return a.Name
		}
	case store.PrincipalUser:
		if u, err := s.db.User(ctx, p.tenant, p.id); err == nil {
			return u.Name
		}
	case store.PrincipalDealer:
		return "dealer:" + p.id.String()
	}
	return ""
}
